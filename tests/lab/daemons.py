"""Real container daemons (dockerd, containerd) and their clients (docker, ctr, podman) inside the lab.

A `Node` is a fake node: a root directory holding the files a runtime reads (``etc/docker``,
``etc/containerd``, ``etc/containers``, ``etc/systemd/system``) — the same tree `regdoctor proxy
--root` reads — plus daemons that really run with it. Every daemon and client command runs in the
lab's client network namespace, in a mount namespace of its own (``nsenter --net=… unshare --mount
--propagation private``) where the node's ``etc/*`` directories are bind-mounted over ``/etc/*``,
a fresh tmpfs covers ``/run``, and the lab resolver is ``/etc/resolv.conf``; their data, exec and
state directories live under the lab's work dir. So they read ``/etc/docker/daemon.json`` and
``/etc/docker/certs.d`` as on a real machine, and never touch the host's ``/etc``, ``/run`` or
``/var/lib``. The mounts die with the namespace: nothing to unmount at teardown.

systemd is not running here, so `start_dockerd(env=…)` plays its part: the test writes a drop-in
into the node and passes the environment that drop-in gives (or, for "restart pending", an older
one). `Node.close()` stops every daemon (SIGTERM, grace, SIGKILL) with every process it started
(dockerd's managed containerd), and checks that none is left.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .lab import Lab, LabError, _which

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # the Debian package's CLI (a /usr/local/bin/docker may shadow it in PATH)
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
PODMAN = "/usr/bin/podman"
BOUND = ("etc/docker", "etc/containerd", "etc/containers")
_PATH = "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"


def missing() -> list[str]:
    """Daemon binaries this machine lacks (the Debian packages docker.io, containerd, podman)."""
    return [p for p in (DOCKERD, DOCKER, CONTAINERD, CTR, PODMAN) if not os.path.exists(p)] + [
        f"missing binary: {n}" for n in ("nsenter", "unshare") if _which(n) is None]


@dataclass
class Daemon:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    socket: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


class Node:
    """A fake node root and the real daemons that read it (see the module docstring)."""

    def __init__(self, lab: Lab, name: str = "node", resolv: Path | None = None) -> None:
        self.lab = lab
        #: the node's /etc/resolv.conf (default: the lab resolver)
        self.resolv_file = resolv or lab.resolv_file
        self.root = lab.dir / name
        self.state = lab.dir / f"{name}-state"  # daemon data/exec dirs: outside the audited root
        for d in (*BOUND, "etc/systemd/system"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self.state.mkdir(exist_ok=True)
        self.daemons: list[Daemon] = []
        self._logs: list[IO[bytes]] = []
        self.stopped_pids: set[int] = set()

    # ------------------------------------------------------------------ files of the node

    def write(self, path: str, text: str) -> Path:
        """Write a file of the node (``/etc/docker/daemon.json`` → ``<root>/etc/docker/daemon.json``)."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / path.lstrip("/")).unlink()

    # ------------------------------------------------------------------ running things

    def _wrap(self, argv: Sequence[str]) -> list[str]:
        lab = self.lab
        binds = " && ".join(f'mount --bind {shlex.quote(str(self.root / d))} /{d}' for d in BOUND)
        script = (f'mount --bind {shlex.quote(str(self.resolv_file))} /etc/resolv.conf && '
                  f'mount --bind {shlex.quote(str(lab.dir / "etc" / "nsswitch.conf"))} /etc/nsswitch.conf && '
                  f'{binds} && mount -t tmpfs -o mode=0755 regdoctor-lab /run && exec "$@"')
        return [str(_which("nsenter")), f"--net=/run/netns/{lab.client_ns}", "--",
                str(_which("unshare")), "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", script, "node-exec", *argv]

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        return {"PATH": _PATH, "HOME": str(self.lab.home), "LANG": "C.UTF-8", **(env or {})}

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """A client command in the node's namespaces (it sees the node's /etc/docker, …)."""
        proc = subprocess.Popen(self._wrap(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self._env(env), cwd=self.lab.home, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return subprocess.CompletedProcess(list(argv), -9, out.decode(errors="replace"),
                                               err.decode(errors="replace") + f"\n(killed after {timeout} s)")
        return subprocess.CompletedProcess(list(argv), proc.returncode, out.decode(errors="replace"),
                                           err.decode(errors="replace"))

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None, socket: Path,
              ready: Sequence[str], timeout: float = 60) -> Daemon:
        """Start a daemon; wait until ``ready`` (a client command) succeeds."""
        log_path = self.lab.dir / "logs" / f"{name}.log"
        log = log_path.open("ab")
        self._logs.append(log)
        # setpriv --pdeathsig: the daemon gets SIGTERM if the test process dies; nsenter, unshare and sh exec,
        # so the PID is the daemon's own.
        proc = subprocess.Popen([str(_which("setpriv")), "--pdeathsig", "TERM", "--", *self._wrap(argv)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self._env(env),
                                cwd=self.state)
        d = Daemon(name, proc, log_path, socket)
        self.daemons.append(d)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LabError(f"{name} exited ({proc.returncode}): {log_path.read_text(errors='replace')[-2000:]}")
            if socket.exists():
                r = self.run(ready, timeout=20)
                if r.returncode == 0:
                    return d
                last = r.stderr
            time.sleep(0.2)
        raise LabError(f"{name} not ready after {timeout} s: {last[-500:]} "
                       f"{log_path.read_text(errors='replace')[-1500:]}")

    def stop(self, d: Daemon, grace: float = 15) -> None:
        """SIGTERM the daemon, then SIGKILL it and anything it started that is still there."""
        family = _descendants(d.pid)
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
            try:
                d.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                d.proc.kill()
                d.proc.wait()
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.stopped_pids |= family | {d.pid}
        if d in self.daemons:
            self.daemons.remove(d)

    def close(self) -> None:
        for d in list(self.daemons):
            self.stop(d)
        for log in self._logs:
            log.close()
        self._logs.clear()

    def proc_view(self) -> Path:
        """A /proc of this node's running daemons only (symlinks to their /proc/<pid>, plus the
        boot-time ``stat``), for ``regdoctor --proc``: on a machine where other labs run dockerd
        too, the global /proc would offer several daemons of the same name."""
        view = self.state / "proc-view"
        if view.exists():
            shutil.rmtree(view)
        view.mkdir(parents=True)
        (view / "stat").symlink_to("/proc/stat")
        for d in self.daemons:
            if d.proc.poll() is None:
                (view / str(d.pid)).symlink_to(f"/proc/{d.pid}")
        return view

    def alive(self) -> list[int]:
        """PIDs this node started that still exist (zombies count as gone)."""
        out = []
        for pid in self.stopped_pids:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z":
                    out.append(pid)
        return out

    # ------------------------------------------------------------------ the daemons

    def start_dockerd(self, env: Mapping[str, str] | None = None, name: str = "dockerd") -> Daemon:
        s = self.state / name
        for sub in ("data", "exec"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        sock = s / "docker.sock"
        argv = [DOCKERD, "--data-root", str(s / "data"), "--exec-root", str(s / "exec"), "--pidfile",
                str(s / "docker.pid"), "-H", f"unix://{sock}", "--bridge=none", "--iptables=false",
                "--ip-masq=false", "--userland-proxy=false", "--storage-driver=vfs"]
        self.docker_host = f"unix://{sock}"
        return self.start(name, argv, env, sock, [DOCKER, "-H", self.docker_host, "version", "--format",
                                                 "{{.Server.Version}}"])

    def docker(self, *args: str, env: Mapping[str, str] | None = None,
               timeout: float = 90) -> subprocess.CompletedProcess[str]:
        config = self.state / "docker-cli"
        config.mkdir(exist_ok=True)
        return self.run([DOCKER, "-H", self.docker_host, *args], env={"DOCKER_CONFIG": str(config), **(env or {})},
                        timeout=timeout)

    def podman(self, *args: str, env: Mapping[str, str] | None = None,
               timeout: float = 400) -> subprocess.CompletedProcess[str]:
        """podman (daemonless) in the node's namespaces: it reads the node's /etc/containers
        (containers.conf, registries.conf, certs.d) as it would on the node; storage and run
        state in the node's state directory. containers/image retries a failed pull with
        backoff, so a blocked path costs tens of seconds."""
        s = self.state / "podman"
        s.mkdir(exist_ok=True)
        policy = s / "policy.json"
        policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
        return self.run([PODMAN, "--root", str(s / "root"), "--runroot", str(s / "run"), "--storage-driver", "vfs",
                         *args[:1], "--signature-policy", str(policy), *args[1:]], env=env, timeout=timeout)

    def start_containerd(self, env: Mapping[str, str] | None = None, name: str = "containerd") -> Daemon:
        s = self.state / name
        s.mkdir(parents=True, exist_ok=True)
        sock = s / "containerd.sock"
        config = self.root / "etc/containerd/config.toml"
        if not config.exists():
            self.write("/etc/containerd/config.toml", containerd_config(s, sock))
        self.containerd_address = str(sock)
        # --config names the file as the daemon sees it (/etc/containerd is the node's, bind-mounted)
        return self.start(name, [CONTAINERD, "--config", "/etc/containerd/config.toml"], env, sock,
                          [CTR, "--address", str(sock), "version"])

    def ctr(self, *args: str, env: Mapping[str, str] | None = None,
            timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return self.run([CTR, "--address", self.containerd_address, *args], env=env, timeout=timeout)


def containerd_config(state: Path, sock: Path, config_path: str = "/etc/containerd/certs.d") -> str:
    """containerd's own root, state and sockets under ``state``; no CRI (no kubelet here)."""
    return (
        "version = 2\n"
        f'root = "{state}/root"\nstate = "{state}/state"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",'
        ' "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",'
        ' "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt"]\n'
        f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n'
        '[debug]\n  address = ""\n[metrics]\n  address = ""\n'
        '[plugins."io.containerd.grpc.v1.cri".registry]\n'
        f'  config_path = "{config_path}"\n'
    )


__all__ = ["BOUND", "Daemon", "Node", "containerd_config", "missing"]
