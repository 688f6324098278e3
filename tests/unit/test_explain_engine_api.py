"""An Engine API SDK's rendering of a daemon error reads as the Docker CLI's rendering of it.

The daemon's messages are the lab's real ones: every ``Error response from daemon: MESSAGE`` line
the docker CLI printed for a lab fault (tests/fixtures/client_errors). Each SDK's sentence is built
from that SDK's own format string around the same message and the status the daemon answered
(500 for a failed pull), and must give the same first finding as the CLI's line: the status in it
is the daemon's, not the registry's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regdoctor.explain import explain

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "client_errors").glob("docker*.json"))
PREFIX = "Error response from daemon: "


def _messages() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in FIXTURES:
        rec = json.loads(path.read_text())
        for line in (rec["stdout"] + rec["stderr"]).splitlines():
            if line.startswith(PREFIX):
                out[path.stem] = line[len(PREFIX):]
                break
    return out


MESSAGES = _messages()

SDKS = {
    # Docker.DotNet: $"Docker API responded with status code={statusCode}, response={responseBody}"
    "Docker.DotNet": lambda m: "Docker.DotNet.DockerApiException: Docker API responded with status "
                               f"code=InternalServerError, response={json.dumps({'message': m})}",
    # docker-py APIError.__str__: f'{code} Server Error for {url}: {reason}' + f' ("{explanation}")'
    "docker-py": lambda m: "docker.errors.APIError: 500 Server Error for http+docker://localhost/v1.41/images/"
                           f'create?tag=latest&fromImage=r: Internal Server Error ("{m}")',
    "docker-py < 5": lambda m: f'docker.errors.APIError: 500 Server Error: Internal Server Error ("{m}")',
    # docker-modem: '(HTTP code ' + statusCode + ') ' + msg + ' - ' + (json.message || json) + ' '
    "dockerode": lambda m: f"Error: (HTTP code 500) server error - {m} ",
    # docker-java: "Status " + status + ": " + body
    "docker-java": lambda m: f"com.github.dockerjava.api.exception.InternalServerErrorException: Status 500: "
                             f"{json.dumps({'message': m})}",
    # bollard: "Docker responded with status code {status_code}: {message}"
    "bollard": lambda m: f"Docker responded with status code 500: {m}",
}


def _first(text: str) -> str | None:
    findings = explain(text).findings
    return findings[0].code if findings else None


def test_there_are_daemon_messages_to_wrap() -> None:
    assert len(MESSAGES) >= 50


@pytest.mark.parametrize("sdk", sorted(SDKS))
def test_an_sdk_sentence_reads_as_the_cli_line(sdk: str) -> None:
    differ = {}
    for stem, message in MESSAGES.items():
        cli = _first(PREFIX + message)
        got = _first(SDKS[sdk](message))
        if got != cli:
            differ[stem] = (cli, got)
    assert not differ, differ


def test_a_bare_daemon_word_is_read_and_a_status_without_a_message_is_not_the_registrys() -> None:
    assert _first('Docker API responded with status code=InternalServerError, response={"message":"denied"}') \
        == _first("Error response from daemon: denied")
    # no explanation: what failed is unknown; a 500 of the daemon is not a registry front end's 500
    text = ("docker.errors.APIError: 500 Server Error for http+docker://localhost/v1.41/images/create: "
            "Internal Server Error")
    assert _first(text) is None
    assert _first("500 Server Error: Internal Server Error for url: https://r.io/v2/") == "HTTP_SERVER_ERROR"
