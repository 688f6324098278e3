"""Simulated cluster nodes beside the fault lab: each node is a network namespace of its own.

Topology (added to a running `Lab`, removed by `FleetLab.stop`; nothing leaves the machine):

- node i: netns `rd<pid>f<i>`, veth 10.201.i.2/24 <-> 10.201.i.1/24 in the lab's server netns, one route
  10.200.0.0/24 via 10.201.i.1. Every lab server address is local to the server netns, so it answers
  the node directly (no forwarding), and its replies go back over the node's veth.
- the nodes' resolver: a dnsmasq in the server netns on FLEET_DNS_IP with the lab's records.
- the nodes' proxy: a squid in the server netns on FLEET_PROXY_IP, :3128 open, :3129 refusing every
  `*.data.azurecr.io` CONNECT (a proxy allow-list that forgot the data endpoints).
- per-node faults: nftables in the node's own netns (output chain) and its own resolv.conf.

Also here: `spawn_in` (a long-running command in any lab netns, with the bind-mounted resolv.conf and
nsswitch.conf the lab uses), `fetch_in` (an HTTP GET from inside a netns) and `NftFault` (a rule set
switched on and off in a netns), shared by the serve and fleet scenarios.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .lab import DNSMASQ_RECORDS, SERVER_IP, Lab, LabError, _run

FLEET_DNS_IP = "10.200.0.53"
FLEET_PROXY_IP = "10.200.0.54"
PROXY_OPEN, PROXY_NO_DATA = 3128, 3129

FETCH = r"""
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        sys.stdout.write(r.read().decode())
except Exception as exc:
    sys.stderr.write(f"{type(exc).__name__}: {exc}")
    sys.exit(1)
"""


def _exec_prefix(lab: Lab, ns: str, resolv: Path) -> list[str]:
    mount = shlex.quote(lab._bin["mount"])
    script = f'{mount} --bind "$0" /etc/resolv.conf && {mount} --bind "$1" /etc/nsswitch.conf && shift && exec "$@"'
    return [lab._bin["ip"], "netns", "exec", ns, lab._bin["sh"], "-c", script, str(resolv),
            str(lab.dir / "etc" / "nsswitch.conf")]  # fmt: skip


def regdoctor_exe() -> str:
    import sysconfig

    exe = Path(sysconfig.get_path("scripts")) / "regdoctor"
    found = str(exe) if exe.exists() else shutil.which("regdoctor")
    if found is None:
        raise LabError("regdoctor is not installed (pip install -e .)")
    return found


def spawn_in(lab: Lab, ns: str, argv: Sequence[str], *, resolv: Path | None = None,
             env: Mapping[str, str] | None = None, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start `argv` in netns `ns` (lab resolver unless `resolv`); the Popen's pid is the command itself
    (ip and sh both exec). --pdeathsig: a killed test run does not leave it behind."""
    cmd = [lab._bin["setpriv"], "--pdeathsig", "TERM", "--",
           *_exec_prefix(lab, ns, resolv or lab.resolv_file), *argv]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                            env=lab._client_env(env), cwd=lab.home, start_new_session=True)


def fetch_in(lab: Lab, ns: str, url: str, timeout: float = 5.0) -> str:
    """GET `url` from inside netns `ns` (loopback or lab addresses only); raises LabError on failure."""
    r = subprocess.run([lab._bin["ip"], "netns", "exec", ns, sys.executable, "-I", "-S", "-c", FETCH, url,
                        str(timeout)], capture_output=True, text=True, timeout=timeout + 10, check=False)
    if r.returncode != 0:
        raise LabError(f"GET {url} in {ns}: {r.stderr.strip()}")
    return r.stdout


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, wait: float = 15) -> int:
    """Send `sig`, wait; SIGKILL the group if it does not end. Returns the exit status."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LabError(f"no VmRSS for {pid}")


class NftFault:
    """A table of nft rules in one netns, switched on (`on()`) and off (`off()`); off on exit."""

    def __init__(self, lab: Lab, ns: str, rules: str, table: str = "rdfleetfault") -> None:
        self.lab, self.ns, self.table = lab, ns, table
        self.text = (f"table inet {table} {{\n  chain output {{\n"
                     f"    type filter hook output priority 0; policy accept;\n{rules}\n  }}\n}}\n")
        self.active = False

    def on(self) -> None:
        _run([self.lab._bin["ip"], "netns", "exec", self.ns, self.lab._bin["nft"], "-f", "-"], input=self.text)
        self.active = True

    def off(self) -> None:
        if self.active:
            _run([self.lab._bin["ip"], "netns", "exec", self.ns, self.lab._bin["nft"], "delete", "table", "inet",
                  self.table])
            self.active = False

    def __enter__(self) -> NftFault:
        self.on()
        return self

    def __exit__(self, *exc: object) -> None:
        self.off()


@dataclass
class Node:
    name: str
    ns: str
    index: int
    labels: dict[str, str]
    resolv: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"10.201.{self.index}.2"

    @property
    def gateway(self) -> str:
        return f"10.201.{self.index}.1"

    def label_args(self) -> list[str]:
        return [a for k, v in self.labels.items() for a in ("--label", f"{k}={v}")]


class FleetLab:
    """Node namespaces, the nodes' resolver and proxy. `add_node` then `start`; `stop` removes it all."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.dir = lab.dir / f"fleet-{os.getpid()}"
        self.nodes: list[Node] = []
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._netns: list[str] = []
        self._addrs: list[str] = []

    # ------------------------------------------------------------------ building

    def add_node(self, name: str, labels: Mapping[str, str], *, resolv: str | None = None,
                 nft_rules: str | None = None, env: Mapping[str, str] | None = None) -> Node:
        i = len(self.nodes) + 1
        ns = f"rd{os.getpid()}f{i}"
        ip = self.lab._bin["ip"]
        if Path("/run/netns", ns).exists():
            _run([ip, "netns", "del", ns])
        _run([ip, "netns", "add", ns])
        self._netns.append(ns)
        node_if, srv_if = f"vf{i}n", f"vf{i}s"
        _run([ip, "link", "add", node_if, "netns", ns, "type", "veth", "peer", "name", srv_if,
              "netns", self.lab.server_ns])  # fmt: skip
        _run([ip, "-n", ns, "-batch", "-"], input=(
            f"link set lo up\naddr add 10.201.{i}.2/24 dev {node_if}\nlink set {node_if} up\n"
            f"route add 10.200.0.0/24 via 10.201.{i}.1\n"))
        _run([ip, "-n", self.lab.server_ns, "-batch", "-"],
             input=f"addr add 10.201.{i}.1/24 dev {srv_if}\nlink set {srv_if} up\n")
        self.dir.mkdir(exist_ok=True)
        path = self.dir / f"resolv-{name}.conf"
        path.write_text(resolv or f"nameserver {FLEET_DNS_IP}\noptions timeout:1 attempts:1\n")
        node = Node(name=name, ns=ns, index=i, labels=dict(labels), resolv=path, env=dict(env or {}))
        if nft_rules:
            NftFault(self.lab, ns, nft_rules, table="rdnodeegress").on()
        self.nodes.append(node)
        return node

    def start(self) -> None:
        """The nodes' resolver and proxy, in the lab's server netns."""
        self.dir.mkdir(exist_ok=True)
        ip, s = self.lab._bin["ip"], self.lab.server_ns
        for addr in (FLEET_DNS_IP, FLEET_PROXY_IP):
            _run([ip, "-n", s, "addr", "add", f"{addr}/32", "dev", "lo"])
            self._addrs.append(addr)
        self._spawn("fleet-dnsmasq", [
            self.lab._bin["dnsmasq"], "--conf-file=/dev/null", "--keep-in-foreground", "--log-facility=-",
            "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", f"--listen-address={FLEET_DNS_IP}",
            "--port=53", "--user=root", "--pid-file=", *DNSMASQ_RECORDS])  # fmt: skip
        squid = self.dir / "squid"
        squid.mkdir(exist_ok=True)
        (squid / "squid.conf").write_text(_squid_conf(squid))
        shutil.chown(squid, "proxy", "proxy")
        self.dir.chmod(0o755)
        self._spawn("fleet-squid", [self.lab._bin["squid"], "-N", "-f", str(squid / "squid.conf")])
        self._wait_tcp([(FLEET_PROXY_IP, PROXY_OPEN), (FLEET_PROXY_IP, PROXY_NO_DATA), (FLEET_DNS_IP, 53)])

    def _spawn(self, name: str, argv: Sequence[str]) -> None:
        log = (self.dir / f"{name}.log").open("wb")
        proc = subprocess.Popen([self.lab._bin["setpriv"], "--pdeathsig", "TERM", "--", self.lab._bin["ip"], "netns",
                                 "exec", self.lab.server_ns, *argv], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.dir, env={"PATH": os.environ.get("PATH", "")})
        log.close()
        self._procs.append((name, proc))

    def _wait_tcp(self, addrs: list[tuple[str, int]], timeout: float = 15) -> None:
        code = ("import socket,sys,time,json\nd=time.monotonic()+float(sys.argv[1])\np=json.loads(sys.argv[2])\n"
                "while p and time.monotonic()<d:\n for a in list(p):\n  try: socket.create_connection(tuple(a),0.3)"
                ".close(); p.remove(a)\n  except OSError: pass\n time.sleep(0.05)\nprint(json.dumps(p))")
        r = subprocess.run([self.lab._bin["ip"], "netns", "exec", self.lab.server_ns, sys.executable, "-I", "-S", "-c",
                            code, str(timeout), json.dumps(addrs)], capture_output=True, text=True, check=False)
        dead = [n for n, p in self._procs if p.poll() is not None]
        if r.returncode != 0 or json.loads(r.stdout or "[1]") or dead:
            logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in self.dir.glob("*.log"))
            raise LabError(f"fleet servers not ready: {r.stdout.strip()} dead={dead}\n{logs}")

    # ------------------------------------------------------------------ running on nodes

    def spawn(self, node: Node, argv: Sequence[str], stdout: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
        return spawn_in(self.lab, node.ns, argv, resolv=node.resolv, env=node.env, stdout=stdout)

    def run(self, node: Node, argv: Sequence[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
        proc = self.spawn(node, argv)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process(proc, signal.SIGKILL)
            raise
        return subprocess.CompletedProcess(list(argv), proc.returncode, out.decode(errors="replace"),
                                           err.decode(errors="replace"))

    # ------------------------------------------------------------------ teardown

    def stop(self) -> None:
        for _name, proc in self._procs:
            stop_process(proc, wait=5)
        self._procs.clear()
        ip = self.lab._bin.get("ip", "ip")
        for ns in self._netns:
            for pid in subprocess.run([ip, "netns", "pids", ns], capture_output=True, text=True,
                                      check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run([ip, "netns", "del", ns], capture_output=True, check=False)  # its veth pair goes with it
        self._netns.clear()
        for addr in self._addrs:
            subprocess.run([ip, "-n", self.lab.server_ns, "addr", "del", f"{addr}/32", "dev", "lo"],
                           capture_output=True, check=False)
        self._addrs.clear()

    def __enter__(self) -> FleetLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def fleet_lab(lab: Lab) -> Iterator[FleetLab]:
    fl = FleetLab(lab)
    try:
        fl.start()
        yield fl
    finally:
        fl.stop()


def _squid_conf(d: Path) -> str:
    return f"""\
http_port {FLEET_PROXY_IP}:{PROXY_OPEN} name=open
http_port {FLEET_PROXY_IP}:{PROXY_NO_DATA} name=nodata
visible_hostname fleet-proxy
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log
coredump_dir {d}
netdb_filename none
cache deny all
pinger_enable off
dns_nameservers {FLEET_DNS_IP}
hosts_file none
shutdown_lifetime 0 seconds
connect_timeout 3 seconds
cache_effective_user proxy
acl nodes src 10.201.0.0/16
acl SSL_ports port 443 5601-5611
acl CONNECT method CONNECT
acl on_nodata myportname nodata
acl data_endpoints dstdomain .data.azurecr.io
http_access deny CONNECT !SSL_ports
http_access deny on_nodata data_endpoints
http_access allow nodes
http_access deny all
"""


__all__ = ["FLEET_PROXY_IP", "PROXY_NO_DATA", "PROXY_OPEN", "SERVER_IP", "FleetLab", "NftFault", "fetch_in",
           "fleet_lab", "regdoctor_exe", "rss_kib", "spawn_in", "stop_process"]
