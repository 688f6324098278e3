"""Running the real CLI under a pseudo-terminal, as a user's terminal runs it (stdlib ``pty``).

``run`` gives the command a pty for stdout and/or stderr with a window of ``cols`` columns and
reads what it writes there; ``interactive`` forks it as a session leader on a pty (the pty is
its controlling terminal), so writing ``\\x03`` to it is a real Ctrl-C.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
CLI = [sys.executable, "-m", "regdoctor"]


def strip(text: str) -> str:
    """The text a user sees: ANSI sequences removed, the pty's CRLF as LF."""
    return ANSI.sub("", text).replace("\r\n", "\n")


def env(**extra: str) -> dict[str, str]:
    """A clean environment (no proxy, no colour switches of the caller) plus ``extra``."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "TERM": "xterm-256color"}
    return {**base, **extra}


def _winsize(fd: int, cols: int, rows: int = 50) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _drain(fd: int, sink: bytearray, until: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                return
            if not data:
                return
            sink += data
        elif until():
            return


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str


def run(args: list[str], *, cols: int = 80, stdout_tty: bool = True, stderr_tty: bool = False,
        environ: Mapping[str, str] | None = None, timeout: float = 30.0) -> Result:
    """``regdoctor ARGS`` with stdout and/or stderr on a pty ``cols`` wide (the others piped)."""
    master, slave = pty.openpty()
    _winsize(slave, cols)
    proc = subprocess.Popen([*CLI, *args], stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_tty else subprocess.PIPE,
                            stderr=slave if stderr_tty else subprocess.PIPE,
                            env=dict(environ if environ is not None else env()))
    os.close(slave)
    tty_out = bytearray()
    piped: dict[str, bytes] = {}

    def read_pipes() -> None:
        out, err = proc.communicate()
        piped["out"], piped["err"] = out or b"", err or b""

    reader = threading.Thread(target=read_pipes, daemon=True)
    reader.start()
    _drain(master, tty_out, lambda: proc.poll() is not None, timeout)
    reader.join(timeout)
    os.close(master)
    text = tty_out.decode(errors="replace")  # what the pty got: stdout, stderr or both
    return Result(rc=proc.wait(timeout), stdout=text if stdout_tty else piped["out"].decode(errors="replace"),
                  stderr=text if stderr_tty else piped["err"].decode(errors="replace"))


def interactive(args: list[str], *, cols: int = 80, environ: Mapping[str, str] | None = None,
                ctrl_c_when: bytes | None = None, timeout: float = 30.0) -> tuple[int, str]:
    """Fork ``regdoctor ARGS`` on a pty as its controlling terminal; once its output holds
    ``ctrl_c_when``, type Ctrl-C. Returns (exit code, everything it wrote)."""
    pid, master = pty.fork()
    if pid == 0:  # the child: stdin, stdout, stderr are the pty
        try:
            _winsize(0, cols)
            os.execve(CLI[0], CLI + args, dict(environ if environ is not None else env()))
        finally:
            os._exit(127)
    out = bytearray()
    sent = False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
        if ctrl_c_when is not None and not sent and ctrl_c_when in out:
            os.write(master, b"\x03")  # the terminal turns it into SIGINT for the foreground group
            sent = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a TLS handshake waits)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for c in held:
            c.close()
        srv.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connect is refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port
