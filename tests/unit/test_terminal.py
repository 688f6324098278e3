"""The CLI in a real terminal (a pty): colour, width, live progress, Ctrl-C — and plain when piped.

Every command runs as a user runs it: ``python -m regdoctor`` in a child process whose stdout or
stderr is a pseudo-terminal of 60, 80 or 120 columns (``tests/unit/ptyrun.py``). The endpoints are
on loopback: a closed port (refused at once) and a silent one (the TLS handshake waits).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from ptyrun import CLI, closed_port, env, interactive, run, silent_server, strip

ACR = Path(__file__).resolve().parent / "data" / "acr"
NX = 'Error response from daemon: Get "https://myreg.azurecr.io/v2/": dial tcp: lookup myreg.azurecr.io on ' \
     "10.0.0.10:53: no such host"


def _commands() -> dict[str, list[str]]:
    return {
        "check": ["check", f"localhost:{closed_port()}", "--timeout", "1"],
        "check -v": ["check", f"localhost:{closed_port()}", f"127.0.0.1:{closed_port()}", "-v", "--timeout", "1"],
        "explain": ["explain", NX],
        "codes": ["codes"],
        "acr lint": ["acr", "lint", str(ACR / "combined.json")],
    }


def _unbreakable(line: str) -> bool:
    """One whole backquoted command or one URL on a line of its own: it cannot be shorter, and
    breaking it would break the copy (the terminal wraps it softly, and copies it whole)."""
    return re.fullmatch(r"[(\[]?`[^`]+`[)\].,;:]*", line) is not None or " " not in line


def _too_wide(text: str, cols: int) -> list[str]:
    """Lines wider than the terminal, except the unbreakable ones."""
    return [ln for ln in strip(text).splitlines() if len(ln) > cols and not _unbreakable(ln)]


@pytest.mark.parametrize("name", list(_commands()))
def test_colour_on_a_terminal_and_the_same_text_plain_when_piped(name: str) -> None:
    args = _commands()[name]
    tty = run(args, cols=100)
    assert "\x1b[" in tty.stdout, tty.stdout[:500]
    piped = run(args, cols=100, stdout_tty=False)
    assert "\x1b" not in piped.stdout
    assert piped.rc == tty.rc
    if name != "check -v" and not name.startswith("check"):  # check's text holds timings
        assert strip(tty.stdout) == piped.stdout


@pytest.mark.parametrize("switch", [{"NO_COLOR": "1"}, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, "--color=never"])
def test_no_colour_when_asked(switch: dict[str, str] | str) -> None:
    args = _commands()["check"]
    r = run([*args, switch]) if isinstance(switch, str) else run(args, environ=env(**switch))
    assert r.stdout.strip() and "\x1b" not in r.stdout


def test_colour_when_forced_into_a_pipe() -> None:
    args = _commands()["explain"]
    assert "\x1b[" in run(args, stdout_tty=False, environ=env(FORCE_COLOR="1")).stdout
    assert "\x1b[" in run([*args, "--color", "always"], stdout_tty=False, environ=env(NO_COLOR="1")).stdout


@pytest.mark.parametrize("cols", [60, 80, 120])
@pytest.mark.parametrize("name", list(_commands()))
def test_lines_fit_the_terminal(name: str, cols: int) -> None:
    r = run(_commands()[name], cols=cols)
    assert r.stdout.strip()
    assert not _too_wide(r.stdout, cols), "\n".join(_too_wide(r.stdout, cols))


@pytest.mark.parametrize("cols", [60, 80])
def test_columns_also_sets_the_width_of_piped_text(cols: int) -> None:
    r = run(_commands()["explain"], stdout_tty=False, environ=env(COLUMNS=str(cols)))
    assert not _too_wide(r.stdout, cols)


def test_fix_commands_are_outside_the_border_and_never_broken() -> None:
    r = run(["explain", NX], cols=60)
    text = strip(r.stdout)
    for line in text.splitlines():
        if line.startswith("│"):
            assert "nslookup" not in line  # the fix is not inside the panel
    assert "`nslookup myreg.azurecr.io`" in text.replace("\n      ", " ")
    assert "`regdoctor check -n myreg`" in text  # one line, whole


def test_progress_on_stderr_while_a_step_waits() -> None:
    with silent_server() as port:
        r = run(["check", f"localhost:{port}", "--timeout", "1.5"], stdout_tty=False, stderr_tty=True)
    err = strip(r.stderr)
    assert f"localhost:{port}" in err and "tls handshake" in err and "s left" in err, err[-800:]
    assert "✗ localhost" in err  # the endpoint's end stays on stderr
    assert "TLS_HANDSHAKE_TIMEOUT" in r.stdout or "TLS" in r.stdout


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_no_progress_when_piped_or_json(extra: list[str]) -> None:
    with silent_server() as port:
        args = ["check", f"localhost:{port}", "--timeout", "0.5", *extra]
        piped = run(args, stdout_tty=False, stderr_tty=False)
        assert piped.stderr == ""
        if extra:
            on_tty = run(args, stdout_tty=False, stderr_tty=True)
            assert strip(on_tty.stderr).strip() == ""


def test_ctrl_c_exits_130_with_the_partial_report() -> None:
    refused = closed_port()
    with silent_server() as port:
        rc, out = interactive(["check", f"localhost:{port}", f"localhost:{refused}", "--timeout", "20"],
                              ctrl_c_when=b"tcp connect: dial", timeout=15)  # once one endpoint ended
    text = strip(out)
    assert rc == 130, text[-1500:]
    assert "CLIENT_INTERRUPTED" in text and "TCP_REFUSED" in text  # what finished is reported
    assert "Traceback" not in text


def test_sigint_with_json_is_still_a_json_document() -> None:
    with silent_server() as port:
        proc = subprocess.Popen([*CLI, "check", f"localhost:{port}", "--timeout", "20", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        time.sleep(2.0)  # the probe waits on the silent port
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err[-500:]
    doc = json.loads(out)
    assert doc["schema"] == 1 and any(f["code"] == "CLIENT_INTERRUPTED" for f in doc["findings"])
