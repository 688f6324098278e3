"""Running a credential helper as docker and containers/image do (docker-credential-helpers'
``client.Get``), with a deadline and an output cap.

Protocol: ``docker-credential-<name> get``, the server URL on stdin (no newline), the user's
environment, stderr passed through (here: kept for the error text). Exit 0 → the first JSON
value on stdout, ``{"ServerURL", "Username", "Secret"}`` (Go matches the names case-
insensitively); ``Username`` ``<token>`` means ``Secret`` is an identity token. A non-zero exit
whose stdout, trimmed, is exactly ``credentials not found in native keychain`` means "no
credentials" (docker then goes on anonymously); any other failure is an error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from regdoctor.credentials.files import go_json_decode
from regdoctor.safejson import JSONLimitError

if TYPE_CHECKING:
    import subprocess

NOT_FOUND_MESSAGE = "credentials not found in native keychain"
MAX_OUTPUT = 256 * 1024
DEFAULT_TIMEOUT = 10.0


class CredentialError(Exception):
    """A configured credential helper failed (not found on PATH, crashed, hung, garbled)."""

    def __init__(self, helper: str, reason: str) -> None:
        super().__init__(f"{helper}: {reason}")
        self.helper = helper
        self.reason = reason


@dataclass(frozen=True)
class HelperAnswer:
    """What ``get`` printed: empty username and secret when the helper has none."""

    username: str
    secret: str = field(repr=False)


def parse_helper_output(helper: str, returncode: int, stdout: bytes, stderr: bytes = b"") -> HelperAnswer | None:
    """Interpret one ``get`` run; None for "credentials not found"; CredentialError otherwise.

    >>> parse_helper_output("h", 0, b'{"ServerURL":"r.io","Username":"u","Secret":"s"}').username
    'u'
    >>> parse_helper_output("h", 1, b"credentials not found in native keychain\\n") is None
    True
    """
    out = stdout.decode("utf-8", "replace")
    if returncode != 0:
        if out.strip() == NOT_FOUND_MESSAGE:
            return None
        text = out.strip() or stderr.decode("utf-8", "replace").strip()
        first = text.splitlines()[0][:200] if text else ""
        status = f"exit status {returncode}" if returncode > 0 else f"killed by signal {-returncode}"
        raise CredentialError(helper, f"{status}{': ' + first if first else ''}")
    try:
        doc = go_json_decode(stdout, first_value_only=True)
    except JSONLimitError as exc:
        raise CredentialError(helper, f"printed something that is not the credential JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise CredentialError(helper, "printed something that is not the credential JSON object")
    fields: dict[str, object] = {}
    for k, v in doc.items():
        if k.lower() in ("serverurl", "username", "secret"):
            fields[k.lower()] = v
    for name, v in fields.items():
        if v is not None and not isinstance(v, str):
            raise CredentialError(helper, f"printed a credential JSON whose `{name}` is not a string")
    return HelperAnswer(str(fields.get("username") or ""), str(fields.get("secret") or ""))


def _communicate(proc: subprocess.Popen[bytes], data: bytes, deadline: float) -> tuple[bytes, bytes, bool]:
    """Feed stdin, collect stdout/stderr up to MAX_OUTPUT each; True if the deadline passed."""
    import selectors

    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    sel = selectors.DefaultSelector()
    for f in (proc.stdout, proc.stderr):
        sel.register(f, selectors.EVENT_READ)
    timed_out = False
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = bufs[key.fd]  # past the cap the rest is read and dropped, so the helper never blocks
                buf += chunk[:max(0, MAX_OUTPUT - len(buf))]
    finally:
        sel.close()
    return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()]), timed_out


def run_helper(name: str, server_url: str, env: Mapping[str, str],
               timeout: float = DEFAULT_TIMEOUT) -> HelperAnswer | None:
    """``docker-credential-<name> get`` for ``server_url``; None when it has no credentials."""
    import shutil  # here: most machines configure no helper, and a check then never starts one
    import subprocess

    exe = f"docker-credential-{name}"
    path = shutil.which(exe, path=env.get("PATH"))
    if path is None:
        raise CredentialError(exe, "not found on PATH")
    deadline = time.monotonic() + timeout
    try:
        proc = subprocess.Popen([path, "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(env), start_new_session=True)
    except OSError as exc:
        raise CredentialError(exe, f"could not run: {exc.strerror or exc}") from None
    try:
        out, err, timed_out = _communicate(proc, server_url.encode("utf-8", "surrogateescape"), deadline)
        if timed_out:
            raise CredentialError(exe, f"did not answer within {timeout:g} s")
        try:
            code = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise CredentialError(exe, f"did not exit within {timeout:g} s") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
    return parse_helper_output(exe, code, out, err)


__all__ = ["NOT_FOUND_MESSAGE", "CredentialError", "HelperAnswer", "parse_helper_output", "run_helper"]
