"""The reader layer: files under a root directory and processes under a proc directory.

Strategy
--------
Everything the runtime audit knows comes through one ``Source``, so ``--root DIR`` (a node's
filesystem mounted in a pod) and the unit tests' fake roots need nothing else. Paths are always
written as the runtime sees them (``/etc/docker/daemon.json``) and resolved under the root, with
symlinks followed *inside* the root (an absolute link target is re-rooted), so a mounted node
root never leaks into the host's files. Reads are bounded (``syntax.MAX_FILE``) and never write.

Processes are read from ``proc`` (``/proc`` by default when the root is ``/``; a fake root has
none unless ``proc`` is given): name, argv, parent, start time and ``environ`` (which needs the
same user or root; unreadable is ``None``, reported as "not readable", never guessed).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from regdoctor.runtime.syntax import MAX_FILE, parse_environ

_MAX_LINKS = 40
_MAX_DIR = 4096  # entries read from one directory


@dataclass(frozen=True)
class FileText:
    path: str  # as the runtime sees it (inside the root)
    text: str
    mtime: float


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    name: str  # basename of argv[0] (or comm)
    argv: tuple[str, ...]
    environ: dict[str, str] | None  # None: not readable
    started: float | None  # epoch seconds
    environ_error: str = ""


class Source:
    """Bounded, read-only access to one root and one proc directory.

    >>> Source("/nonexistent-root").read("/etc/docker/daemon.json") is None
    True
    """

    def __init__(self, root: str = "/", proc: str | None = None) -> None:
        self.root = os.path.abspath(root)
        if proc is None:
            proc = "/proc" if self.root == "/" else os.path.join(self.root, "proc")
        self.proc = proc

    # -------------------------------------------------------------------- files

    def host_path(self, path: str) -> str | None:
        """The real path of ``path`` (as seen inside the root), symlinks resolved inside the root."""
        parts = [p for p in path.split("/") if p and p != "."]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            real = os.path.join(self.root, *resolved, part)
            try:
                st = os.lstat(real)
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > _MAX_LINKS:
                    return None
                try:
                    target = os.readlink(real)
                except OSError:
                    return None
                if target.startswith("/"):
                    resolved = []
                parts = [p for p in target.split("/") if p and p != "."] + parts
                continue
            resolved.append(part)
        return os.path.join(self.root, *resolved)

    def read(self, path: str) -> FileText | None:
        """The text of ``path`` (None when missing, unreadable, not a regular file or too large)."""
        real = self.host_path(path)
        if real is None:
            return None
        try:
            with open(real, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
                    return None
                # sized by the file, not by the limit: read(MAX_FILE) would allocate 1 MiB a file
                data = fh.read(st.st_size + 1)
        except OSError:
            return None
        if len(data) > MAX_FILE:
            return None
        return FileText(path, data.decode("utf-8", "replace"), st.st_mtime)

    def is_null(self, path: str) -> bool:
        """A unit or drop-in linked to /dev/null (masked)."""
        real = os.path.join(self.root, path.lstrip("/"))
        try:
            return os.path.islink(real) and os.readlink(real) == "/dev/null"
        except OSError:
            return False

    def listdir(self, path: str) -> list[str]:
        """Sorted entry names of a directory (empty when missing)."""
        real = self.host_path(path)
        if real is None:
            return []
        try:
            with os.scandir(real) as it:
                names = []
                for entry in it:
                    names.append(entry.name)
                    if len(names) >= _MAX_DIR:
                        break
        except OSError:
            return []
        return sorted(names)

    def is_dir(self, path: str) -> bool:
        real = self.host_path(path)
        return real is not None and os.path.isdir(real)

    def exists(self, path: str) -> bool:
        return self.host_path(path) is not None

    def homes(self) -> list[tuple[str, int]]:
        """(home directory, uid) of root and of each /home/* user (for rootless and per-user config)."""
        out = [("/root", 0)]
        passwd = self.read("/etc/passwd")
        if passwd is not None:
            for line in passwd.text.splitlines():
                f = line.split(":")
                if len(f) >= 6 and f[2].isdigit() and int(f[2]) >= 1000 and f[5].startswith("/home/"):
                    out.append((f[5], int(f[2])))
        known = {h for h, _ in out}
        for name in self.listdir("/home"):
            if f"/home/{name}" not in known:
                out.append((f"/home/{name}", -1))
        return out

    # -------------------------------------------------------------------- processes

    def processes(self) -> list[Process]:
        """Every process under ``proc`` whose argv could be read, in PID order."""
        pids = self._pids()
        out = []
        boot = self._boot_time()  # once: reading /proc/stat per process was half the cost of this loop
        for pid in pids:
            p = self.process(pid, boot)
            if p is not None:
                out.append(p)
        return out

    def _pids(self) -> list[int]:
        """The process ids under ``proc``, in order (none when it cannot be listed)."""
        try:
            return sorted(int(n) for n in os.listdir(self.proc) if n.isdigit())
        except OSError:
            return []

    def process_names(self) -> frozenset[str]:
        """The command name (``comm``) of every process under ``proc``: one small read each, no argv
        or environment, so that "is any daemon running?" costs far less than ``processes()``."""
        names = set()
        for pid in self._pids():
            try:
                names.add(_read(os.path.join(self.proc, str(pid), "comm"), 64).decode("utf-8", "replace").rstrip("\n"))
            except OSError:
                continue  # gone meanwhile, or not ours to read
        return frozenset(names)

    def process(self, pid: int, boot: float | None = None) -> Process | None:
        """One process; ``boot``: the boot time (``_boot_time``) when the caller read it already."""
        # plain string paths: pathlib interns every path part (sys.intern), and /proc brings new
        # pids for ever — a long-running `serve` would keep each one (found by the soak test)
        base = os.path.join(self.proc, str(pid))
        try:
            argv = tuple(a.decode("utf-8", "replace") for a in _read(os.path.join(base, "cmdline"), 65536)
                         .split(b"\0") if a)
            statline = _read(os.path.join(base, "stat"), 4096).decode("utf-8", "replace")
        except OSError:
            return None
        # comm may contain spaces and parentheses: the fields after it start after the last ')'
        comm = statline[statline.find("(") + 1:statline.rfind(")")]
        fields = statline[statline.rfind(")") + 2:].split()
        ppid = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        started = self._start_time(fields, self._boot_time() if boot is None else boot)
        environ: dict[str, str] | None
        err = ""
        try:
            environ = parse_environ(_read(os.path.join(base, "environ"), 1024 * 1024))
        except OSError as exc:
            environ, err = None, exc.strerror or type(exc).__name__
        name = os.path.basename(argv[0]).split()[0] if argv and argv[0] else comm
        return Process(pid, ppid, name, argv, environ, started, err)

    def _boot_time(self) -> float | None:
        """``btime`` of ``proc``/stat (seconds since the epoch), or None when it cannot be read."""
        try:
            for line in _read(os.path.join(self.proc, "stat"), 1 << 20).decode("ascii", "replace").splitlines():
                if line.startswith("btime "):
                    return float(int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            return None
        return None

    def _start_time(self, fields: list[str], boot: float | None) -> float | None:
        if boot is None:
            return None
        try:
            return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        except (ValueError, IndexError):
            return None


def _read(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes, read in small pieces: /proc files report size 0, so one
    ``read(limit)`` would allocate the whole limit each time (RSS creep in a long ``serve``)."""
    parts: list[bytes] = []
    size = 0
    with open(path, "rb", buffering=0) as fh:
        while size < limit:
            chunk = fh.read(min(65536, limit - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
    return b"".join(parts)


__all__ = ["FileText", "Process", "Source"]
