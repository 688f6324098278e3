"""Docker Engine API clients' renderings of a daemon error, read back as the daemon's message.

Every SDK of the Engine API turns the daemon's error answer (an HTTP status and the body
``{"message": "…"}``) into its own sentence, and the status in it is the *daemon's* — dockerd
answers 500 for any failed pull and 404 or 401 after its own error mapping — not the registry's.
Read as it stands, ``status code=InternalServerError`` or ``500 Server Error`` would be a registry
front end failing; what failed is in the message, which the Docker CLI prints as ``Error response
from daemon: MESSAGE``. So each SDK's sentence is rewritten to that one, from the SDKs' own format
strings:

- Docker.DotNet ``DockerApiException``: ``Docker API responded with status code=NAME, response=BODY``
- docker-py ``APIError``: ``500 Server Error for URL: REASON ("EXPLANATION")`` (older: ``500 Server
  Error: REASON ("EXPLANATION")``; ``Client Error`` for 4xx)
- docker-modem (dockerode): ``(HTTP code 500) server error - MESSAGE``
- docker-java (Testcontainers): ``Status 500: BODY``
- bollard: ``Docker responded with status code 500: MESSAGE``

docker-py's sentence without an explanation keeps only ``Error response from daemon:``: the daemon's
status alone says nothing of the registry. Linear time: each
pattern is literal-led with bounded or possessive repeats.
"""

from __future__ import annotations

import json
import re

_JSON_MESSAGE = re.compile(r'\{\s*+"message"\s*+:\s*+"(?P<m>(?:[^"\\\n]|\\.){0,4000}+)"')

# (literal that must be present, the SDK's sentence up to where the message starts)
_INTROS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Docker API responded with status code=",
     re.compile(r"Docker API responded with status code=[A-Za-z]{2,40}+, response=")),
    (" Error for ", re.compile(r"\b[1-5][0-9]{2} (?:Server|Client) Error for (?:[^\s:]|:(?! )){1,2048}+: "
                               r"[A-Za-z]++(?: [A-Za-z]++){0,5}+ \(\"")),
    (" Error: ", re.compile(r"\b[1-5][0-9]{2} (?:Server|Client) Error: [A-Za-z]++(?: [A-Za-z]++){0,5}+ \(\"")),
    ("(HTTP code ", re.compile(r"\(HTTP code [1-5][0-9]{2}\) [a-z]++(?: [a-z]++){0,5}+ - ")),
    ("Status ", re.compile(r"\bStatus [1-5][0-9]{2}: (?=\{)")),
    ("Docker responded with status code ", re.compile(r"Docker responded with status code [1-5][0-9]{2}: ")),
)
# docker-py with no explanation: only the daemon's status and reason, which say nothing of the registry
_BARE_DOCKER_PY = re.compile(r"\b[1-5][0-9]{2} (?:Server|Client) Error for (?:http\+docker|http\+unix|unix)://"
                             r"(?:[^\s:]|:(?! )){0,2048}+: [A-Za-z]++(?: [A-Za-z]++){0,5}+$")

DAEMON = "Error response from daemon: "


def daemon_message(text: str) -> str:
    """``text`` with an Engine API SDK's sentence replaced by the daemon's message, as the CLI prints it.

    >>> daemon_message('Docker API responded with status code=InternalServerError, response={"message":"denied"}')
    'Error response from daemon: denied'
    >>> daemon_message('500 Server Error for http+docker://localhost/v1.41/images/create?fromImage=a: '
    ...                'Internal Server Error ("Get \\\\"https://r.io/v2/\\\\": EOF")')
    'Error response from daemon: Get "https://r.io/v2/": EOF'
    >>> daemon_message('(HTTP code 500) server error - unauthorized: authentication required ')
    'Error response from daemon: unauthorized: authentication required '
    >>> daemon_message('500 Server Error for http+docker://localhost/v1.41/images/create: Internal Server Error')
    'Error response from daemon:'
    """
    for literal, intro in _INTROS:
        if literal not in text:
            continue
        m = intro.search(text)
        if m is None:
            continue
        rest = text[m.end():]
        if m.group(0).endswith('("'):  # docker-py: the explanation is quoted as Python prints it
            end = rest.rfind('")')
            if end < 0:
                continue
            message = rest[:end].replace('\\"', '"')
            return f"{text[:m.start()]}{DAEMON}{message}{rest[end + 2:]}"
        body = _JSON_MESSAGE.match(rest)
        if body is not None:
            try:
                message = json.loads(f'"{body.group("m")}"')
            except ValueError:
                message = body.group("m")
            tail = rest[body.end():].lstrip().removeprefix("}")
            return f"{text[:m.start()]}{DAEMON}{message}{tail}"
        if rest.startswith("{"):  # a JSON body without a message: nothing to read the daemon's error from
            continue
        return f"{text[:m.start()]}{DAEMON}{rest}"
    if " Error for " in text and (m := _BARE_DOCKER_PY.search(text)) is not None:
        return f"{text[:m.start()]}{DAEMON}".rstrip()
    return text
