"""The regdoctor fault lab: two network namespaces with real servers that fail in every way regdoctor diagnoses.

Recipe: docs/reference/fault-lab.md. Topology (addresses are per netns, so fixed values are safe):

- client netns (10.200.0.2, NO default route; one host route to 20.50.60.70): dnsmasq on 127.0.0.1:53,
  fakedns (SERVFAIL :5354, silent :5355), squid :3128 open / :3132 basic auth, danted (SOCKS5) :1080, bad proxies
  :3130 readclose / :3131 hang (:3129 closed). Everything under test runs here, via `Lab.client`.
- server netns (10.200.0.1 plus 20.50.60.70/32): the distribution registry on :5000 (HTTP) and
  :5440-:5448 (TLS variants), scripted fronts on :5450-:5460, :5442, :8450-:8452 and 20.50.60.70:443,
  and nftables for drop / ICMP faults (:5455, :8443, :8445).
- the pull path past `GET /v2/` (server netns, extra /32 addresses on the same veth, all on-link for the
  client): token-auth registries with the redirect middleware on 10.200.0.1:5601-:5609 (one data-endpoint
  fault each, see TOKEN_REGISTRIES), the token service auth.lab.test (10.200.0.10:5600, pullpath.py), a
  blackholed token host (.11), data hosts .20-.25 (good, dropped, refused, expired TLS, storage 403,
  redirect loop; data-nx.lab.test is NXDOMAIN), two ACR-style replica data endpoints
  (pullreg.westeurope.data.azurecr.io -> the good data host, pullreg.eastus.data.azurecr.io -> dropped), and
  the ACR manifest-403 front on :5610, and an ACR imitation on :5611 (its token endpoint is the registry host
  itself, /oauth2/token, issuing opaque tokens; blobs 307 to pullreg.westeurope.data.azurecr.io with a SAS-like
  query) plus its variant on :5612 whose blob redirect the data host answers 429, and registry.k8s.io's shape on
  :5613 (every API request 307s to :5601) and :5614 (to a dropped address). The token service, the data
  host and the ACR imitation log every request as JSON lines (`Lab.token_log`, `Lab.data_log`,
  `Lab.acrflow_log`, read with `Lab.records`).

Nothing can leave the machine: neither namespace has a default route, dnsmasq has no upstream, and the
client's name service is pinned to `files dns` so glibc cannot hand a lookup to a host-side daemon.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from .image import write_oci_index_layout, write_oci_layout

HERE = Path(__file__).resolve().parent
SERVER_IP = "10.200.0.1"
CLIENT_IP = "10.200.0.2"
PUBLIC_IP = "20.50.60.70"  # "public-looking", but it lives only on the server veth inside our netns
BLACKHOLE_IP = "10.200.0.99"  # on-link, nobody answers ARP -> "no route to host" after ~3 s
CLIENT_VETH = "veth-c"
SERVER_VETH = "veth-s"

LAB_USER, LAB_PASS = "labuser", "labpass"  # registry htpasswd (:5443)
PROXY_USER, PROXY_PASS = "labproxy", "proxypass"  # squid basic auth (:3132)

# ---- Docker Hub's role. A REF such as `nginx:latest` is docker.io/library/nginx:latest, which regdoctor (like
# docker) dials at registry-1.docker.io. In the lab that name is the token registry on 443 (as goodreg.azurecr.io
# is), holding DOCKER_HUB_REPO:latest (the lab image, pushed with the others) that anonymous tokens may pull
# (pullpath.py ANONYMOUS), so a Docker Hub REF is followed end to end without leaving the lab
# (tests/scenarios/test_check_docker_hub.py). Used by GOOD_SANS, DNSMASQ_RECORDS and _push_images.
DOCKER_HUB_HOST = "registry-1.docker.io"
DOCKER_HUB_REPO = "library/nginx"

GOOD_SANS = (
    f"DNS:registry.lab.test,DNS:localhost,DNS:labreg.azurecr.io,DNS:brokenreg.azurecr.io,DNS:pullreg.azurecr.io,"
    f"DNS:goodreg.azurecr.io,DNS:dropreg.azurecr.io,DNS:egress.lab.test,DNS:{DOCKER_HUB_HOST},"
    f"IP:{SERVER_IP},IP:127.0.0.1"
)

# Registry instances: port -> certificate name (None = plain HTTP). All share one storage root.
REGISTRY_PORTS: dict[int, str | None] = {
    5000: None,
    5441: "good",
    5443: "good",  # + htpasswd auth
    5444: "expired",
    5445: "notyet",
    5446: "rogue",
    5447: "wrongname",
    5448: "selfsigned",
    5440: "inspection",
}
AUTH_PORT = 5443

# ---- the pull path past GET /v2/: token service, token-auth registries, blob redirects, data endpoints
TOKEN_IP = "10.200.0.10"  # auth.lab.test: the token service
TOKEN_DOWN_IP = "10.200.0.11"  # auth-down.lab.test: nft drop (a blackholed token host)
TOKEN_PORT = 5600
TOKEN_SERVICE = "registry.lab.test"
TOKEN_ISSUER = "regdoctor-lab-token-service"
TOKEN_REALM = f"https://auth.lab.test:{TOKEN_PORT}/token"
# Data hosts: name (.lab.test) -> address. All on the server veth; what each does is decided by what
# listens there (pullpath.py data, fronts), by nft (drop) or by nothing at all (refused: the kernel RSTs).
DATA_HOSTS = {
    "data": "10.200.0.20",  # serves the registry storage root
    "data-drop": "10.200.0.21",  # nft drop
    "data-refused": "10.200.0.22",  # address, no listener -> RST
    "data-badtls": "10.200.0.23",  # the same files behind the EXPIRED leaf
    "data-403": "10.200.0.24",  # azure403 front
    "data-loop": "10.200.0.25",  # redirect-loop front
}
DATA_IP = DATA_HOSTS["data"]
DROPPED_IPS = (TOKEN_DOWN_IP, DATA_HOSTS["data-drop"])
# Dedicated data endpoints as ACR names them (<reg>.<region>.data.azurecr.io): one works, one is blackholed.
# Registry "pullreg", not "labreg": tests/scenarios/test_acr_dns_lab.py relies on labreg's (and brokenreg's)
# data endpoint having no record here (REFUSED), the missing privatelink record it diagnoses.
REPLICA_ENDPOINTS = {
    "pullreg.westeurope.data.azurecr.io": DATA_IP,
    "pullreg.eastus.data.azurecr.io": DATA_HOSTS["data-drop"],
}
# Registry port -> (token realm, redirect middleware baseurl). Real distribution, token auth verified
# against the token service's signing certificate, blobs answered with a 307 to the baseurl's host.
TOKEN_REGISTRIES: dict[int, tuple[str, str]] = {
    5601: (TOKEN_REALM, "https://data.lab.test/"),
    5602: (f"https://auth-down.lab.test:{TOKEN_PORT}/token", "https://data.lab.test/"),
    5603: (f"https://auth.lab.test:{TOKEN_PORT}/throttled", "https://data.lab.test/"),
    5604: (TOKEN_REALM, "https://data-drop.lab.test/"),
    5605: (TOKEN_REALM, "https://data-refused.lab.test/"),
    5606: (TOKEN_REALM, "https://data-badtls.lab.test/"),
    5607: (TOKEN_REALM, "https://data-403.lab.test/"),
    5608: (TOKEN_REALM, "https://data-nx.lab.test/"),
    5609: (TOKEN_REALM, "https://data-loop.lab.test/"),
    # On 443 behind an ACR-style name (goodreg.azurecr.io): clients that cannot be told a port, such as
    # `az acr check-health -n goodreg`, can reach a healthy registry too (bench/check_vs_skopeo.py).
    443: (TOKEN_REALM, "https://data.lab.test/"),
}
# Token service users, name -> password (pullpath.py holds them and their grant rules): labuser ->
# everything on lab/*, limited -> pull on lab/hello only, anonymous -> pull on lab/hello and lab/multi.
# Not imported from pullpath.py: that would add ~40 ms (http.server, ssl) to every pytest start via
# conftest; test_token_users_match_the_service keeps the two in step.
TOKEN_USERS = {"labuser": "labpass", "limited": "limitedpass"}
DATA_SANS = ",".join(
    [f"DNS:auth.lab.test,DNS:auth-down.lab.test,IP:{TOKEN_IP},IP:{TOKEN_DOWN_IP}"]
    + [f"DNS:{name}.lab.test,IP:{ip}" for name, ip in DATA_HOSTS.items()]
    + ["DNS:data-nx.lab.test", *(f"DNS:{name}" for name in REPLICA_ENDPOINTS)]
)

# Direct egress dropped, only the proxy gets out (tests/lab/daemons.py scenarios): a registry at EGRESS_IP:443
# (egress.lab.test) that the client netns rejects for every local user but squid's. And a squid port that
# refuses to tunnel to *.data.azurecr.io (the public path of a private-endpoint registry's data endpoint).
EGRESS_IP = "10.200.0.30"
SQUID_EGRESS_PORT = 3133
EGRESS_NFT = f"""
table inet labegress {{
  chain output {{
    type filter hook output priority 0; policy accept;
    ip daddr {EGRESS_IP} meta skuid != "proxy" reject with icmpx type admin-prohibited
  }}
}}
"""

# The ACR imitation (fronts.py acr-flow): login server registry.lab.test, realm https://<it>:<port>/oauth2/token.
ACR_FLOW_PORT, ACR_FLOW_THROTTLED_PORT = 5611, 5612
ACR_DATA_ENDPOINT = "pullreg.westeurope.data.azurecr.io"  # where its blobs redirect (one of REPLICA_ENDPOINTS)
# Registries that hand their whole API to another host (fronts.py api-redirect): to :5601, to a dropped address.
API_REDIRECT_PORT, API_REDIRECT_DROP_PORT = 5613, 5614

SERVER_FRONTS = (
    f"acr403@{SERVER_IP}:5450+tls",
    f"429@{SERVER_IP}:5451+tls",
    f"502-html@{SERVER_IP}:5452+tls",
    f"403-html@{SERVER_IP}:5453+tls",
    f"hang@{SERVER_IP}:5454",
    f"tls-hang@{SERVER_IP}:5456+tls",
    f"readclose@{SERVER_IP}:5457",
    f"reset@{SERVER_IP}:5458",
    f"notregistry@{SERVER_IP}:5459+tls",
    f"tls-close@{SERVER_IP}:5460+tls",
    f"503-json@{SERVER_IP}:5442+tls",
    f"garbage@{SERVER_IP}:8450+tls",
    f"endless-headers@{SERVER_IP}:8451+tls",
    f"401-nochallenge@{SERVER_IP}:8452+tls",
    f"acr403@{PUBLIC_IP}:443+tls",  # the public endpoint a broken private link resolves to
    f"acr403-manifest@{SERVER_IP}:5610+tls",  # challenge and token pass, the manifest is DENIED
    f"acr-flow@{SERVER_IP}:{ACR_FLOW_PORT}+tls",  # ACR: token endpoint on the registry host, opaque tokens
    f"acr-flow-429data@{SERVER_IP}:{ACR_FLOW_THROTTLED_PORT}+tls",  # ... whose data endpoint answers 429
    f"api-redirect@{SERVER_IP}:{API_REDIRECT_PORT}+tls",  # registry.k8s.io's shape: the API handed to :5601
    f"api-redirect-drop@{SERVER_IP}:{API_REDIRECT_DROP_PORT}+tls",  # ... to a blackholed backend
)
# The storage-side fronts present the data leaf (their names are data-*.lab.test), so a second process.
DATA_FRONTS = (
    f"azure403@{DATA_HOSTS['data-403']}:443+tls",
    f"redirect-loop@{DATA_HOSTS['data-loop']}:443+tls",
)
CLIENT_FRONTS = ("readclose@127.0.0.1:3130", "hang@127.0.0.1:3131")
FAKEDNS = ("servfail@127.0.0.1:5354", "silent@127.0.0.1:5355")
SQUID_OPEN_PORT, SQUID_AUTH_PORT = 3128, 3132
SOCKS_PORT = 1080  # Dante's SOCKS5 server (danted), no authentication; refuses CONNECT to blocked.lab.test

NFT_RULES = f"""
table inet labfault {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport 5455 drop                                     # SYN vanishes -> dial timeout
    tcp dport 8443 reject with icmpx type host-unreachable  # -> no route to host
    tcp dport 8445 reject with icmpx type no-route          # -> network is unreachable
    ip daddr {{ {", ".join(DROPPED_IPS)} }} drop  # blackholed token host and data endpoint (ARP still answers)
  }}
}}
"""

DNSMASQ_RECORDS = (
    "--local=/lab.test/",  # lab.test is ours: unknown names are NXDOMAIN, never forwarded
    f"--address=/registry.lab.test/{SERVER_IP}",
    f"--address=/blocked.lab.test/{SERVER_IP}",
    f"--address=/wrong.lab.test/{SERVER_IP}",
    f"--address=/blackhole.lab.test/{BLACKHOLE_IP}",
    "--address=/loopback.lab.test/127.0.0.1",
    "--address=/proxy.lab.test/127.0.0.1",
    "--address=/nx.lab.test/",
    "--server=/servfail.lab.test/127.0.0.1#5354",
    "--server=/dnstimeout.lab.test/127.0.0.1#5355",
    "--txt-record=nodata.lab.test,no address here",  # argv, not a shell: no quotes, or they become data
    # Private link, healthy: the public name CNAMEs to the privatelink zone, which holds the private IP.
    f"--host-record=labreg.privatelink.azurecr.io,{SERVER_IP}",
    "--cname=labreg.azurecr.io,labreg.privatelink.azurecr.io",
    # Private link, broken: the privatelink name falls through to the public (cloudapp) address.
    f"--host-record=brokenreg.westeurope.cloudapp.azure.com,{PUBLIC_IP}",
    "--cname=brokenreg.privatelink.azurecr.io,brokenreg.westeurope.cloudapp.azure.com",
    "--cname=brokenreg.azurecr.io,brokenreg.privatelink.azurecr.io",
    # The pull path: token hosts, data hosts, and two ACR-style replica data endpoints.
    f"--address=/auth.lab.test/{TOKEN_IP}",
    f"--address=/auth-down.lab.test/{TOKEN_DOWN_IP}",
    *(f"--address=/{name}.lab.test/{ip}" for name, ip in DATA_HOSTS.items()),
    "--address=/data-nx.lab.test/",
    *(f"--host-record={name},{ip}" for name, ip in REPLICA_ENDPOINTS.items()),
    f"--host-record=pullreg.azurecr.io,{SERVER_IP}",  # the login server of those replicas (public-style name)
    f"--host-record=goodreg.azurecr.io,{SERVER_IP}",  # the token registry on :443 (an ACR-style login server)
    f"--host-record=dropreg.azurecr.io,{DATA_HOSTS['data-drop']}",  # an ACR-style name whose SYNs are dropped
    f"--address=/egress.lab.test/{EGRESS_IP}",  # reachable only through squid (EGRESS_NFT)
    f"--host-record={DOCKER_HUB_HOST},{SERVER_IP}",  # Docker Hub's role: the token registry on 443
)

LEAF_EXT = (
    "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
)
OPENSSL_CNF = (
    "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"  # -subj always overrides
    "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    f"[srv_good]\n{LEAF_EXT}subjectAltName = {GOOD_SANS}\n"
    # The expired leaf also stands behind data-badtls.lab.test, so the only thing wrong there is the date.
    f"[srv_expired]\n{LEAF_EXT}subjectAltName = {GOOD_SANS},DNS:data-badtls.lab.test\n"
    f"[srv_data]\n{LEAF_EXT}subjectAltName = {DATA_SANS}\n"
    # The token signer is self-signed and is itself the registry's rootcertbundle: distribution accepts
    # an x5c chain of one certificate that is in its root pool.
    "[v3_signer]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
    "subjectKeyIdentifier = hash\n"
    f"[srv_wrong]\n{LEAF_EXT}subjectAltName = DNS:wrong.lab.test\n"
    f"[srv_self]\n{LEAF_EXT}subjectAltName = DNS:registry.lab.test\n"
    f"[srv_inspect]\n{LEAF_EXT}subjectAltName = DNS:labreg.azurecr.io,DNS:registry.lab.test\n"
)

# Readiness waiter, run once inside the client netns: TCP connect loops to every listener (the server
# ones across the veth, which also proves the path) plus DNS through dnsmasq; the SERVFAIL answer
# proves fakedns is up as well. Stdlib only and run with -I -S: it starts while two dozen servers
# compete for the CPU, and it is on the critical path (importing dnspython alone cost ~0.1 s there).
WAITER = r"""
import json, os, socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
pending = [tuple(a) for a in json.loads(sys.argv[2])]
# (port, name, rcode that proves it), checked in this order. fakedns is asked directly before dnsmasq is
# asked to forward to it: a query dnsmasq forwards to a not-yet-bound fakedns is retried on dnsmasq's own
# schedule (seconds), not on ours.
dns_ok = [(5354, "servfail.lab.test", 2), (53, "registry.lab.test", 0), (53, "servfail.lab.test", 2)]

def rcode(port, name):
    qid = os.urandom(2)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    query = qid + b"\1\0\0\1\0\0\0\0\0\0" + qname + b"\0\1\0\1"  # RD, one question: A IN
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.connect(("127.0.0.1", port))  # connected: a port not yet bound fails at once (ICMP), no timeout
        sock.send(query)
        while True:
            reply = sock.recv(512)
            if reply[:2] == qid:
                return reply[3] & 0x0F

while (pending or dns_ok) and time.monotonic() < deadline:
    for addr in list(pending):
        try:
            socket.create_connection(addr, timeout=0.5).close()
            pending.remove(addr)
        except OSError:
            pass
    while dns_ok:
        try:
            if rcode(*dns_ok[0][:2]) != dns_ok[0][2]:
                break
        except OSError:
            break
        dns_ok.pop(0)
    if pending or dns_ok:
        time.sleep(0.02)
print(json.dumps({"pending": pending, "dns": [f"{name} (:{port})" for port, name, _ in dns_ok]}))
"""

BINARIES = (
    "ip", "nft", "mount", "sh", "setpriv", "openssl", "htpasswd", "docker-registry", "skopeo", "squid", "dnsmasq",
    "danted",
)  # fmt: skip
SQUID_NCSA = Path("/usr/lib/squid/basic_ncsa_auth")
_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_instances = itertools.count()


def _which(name: str) -> str | None:
    # pytest may run with a PATH lacking sbin; the lab's tools live there.
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")


def missing_prerequisites() -> list[str]:
    """Why the lab cannot run here (empty when it can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (network namespaces and bind mounts need it)")
    problems += [f"missing binary: {name}" for name in BINARIES if _which(name) is None]
    if not SQUID_NCSA.exists():
        problems.append(f"missing {SQUID_NCSA} (squid)")
    try:
        import dns.query  # noqa: F401  (readiness and DNS probes use dnspython)
    except ImportError:
        problems.append("missing Python module: dnspython")
    try:
        import cryptography  # noqa: F401  (the token service signs its JWTs with it)
    except ImportError:
        problems.append("missing Python module: cryptography")
    return problems


class LabError(RuntimeError):
    pass


_UNFILLED = re.compile(r"\{[a-z_][a-z0-9_]*\}|(?<!`)\bNone\b(?!`)")


def assert_texts_filled(stdout: str, args: Sequence[str]) -> None:
    """Every finding regdoctor prints in the lab reads as a sentence: no `{placeholder}` left and
    no Python ``None`` in a cause or fix (issue "every catalogue text renders"). Checked on every
    ``--json`` run of every scenario, so each code the lab produces is covered with the evidence
    its real producer set."""
    if "--json" not in args:
        return
    try:
        doc = json.loads(stdout)
    except ValueError:
        return  # the scenario itself asserts on the output's shape
    for f in doc.get("findings", []) if isinstance(doc, dict) else []:
        for key in ("title", "cause", "fix"):
            m = _UNFILLED.search(str(f.get(key, "")))
            assert m is None, f"{f.get('code')} {key} has {m.group(0)!r} unfilled: {f.get(key)}"


class Lab:
    image_repo: str = "lab/hello"
    image_tag: str = "latest"
    private_repo: str = "lab/private"  # a copy of lab/hello that anonymous tokens do not cover
    multi_repo: str = "lab/multi"  # an OCI image index: linux/amd64 + linux/arm64

    def __init__(self) -> None:
        n = next(_instances)
        base = f"rd{os.getpid()}" + (f"n{n}" if n else "")
        self.client_ns = base + "c"
        self.server_ns = base + "s"
        # mkdtemp + 0755, not pytest's tmp_path (0700): squid runs as `proxy` and needs traversable parents.
        self.dir = Path(tempfile.mkdtemp(prefix="regdoctor-lab-"))
        self.dir.chmod(0o755)
        pki = self.dir / "pki"
        self.ca_file = pki / "ca.crt"
        self.ca_dir = self.dir / "certs" / "lab"  # holds only ca.crt: for `skopeo --cert-dir`
        self.rogue_ca_file = pki / "rogue-ca.crt"
        self.inspection_ca_file = pki / "inspection-ca.crt"
        self.squid_access_log = self.dir / "squid" / "access.log"
        self.resolv_file = self.dir / "etc" / "resolv.conf"
        self.home = self.dir / "home"
        self.storage_root = self.dir / "registry" / "data"  # shared by every registry; served by the data host
        self.token_signing_cert = pki / "token-signer.crt"  # the token-auth registries' rootcertbundle
        # One JSON object per line; see pullpath.py for the fields. Read them with `records()`.
        self.token_log = self.dir / "logs" / "token.jsonl"
        self.data_log = self.dir / "logs" / "data.jsonl"
        self.acrflow_log = self.dir / "logs" / "acrflow.jsonl"  # every header, tokens issued (fronts.py acr-flow)
        self.manifest_digest = ""
        self.layer_digest = ""
        self.config_digest = ""
        self.multi_digest = ""  # the image index of lab/multi
        self.multi_manifests: dict[str, str] = {}  # "linux/amd64" -> platform manifest digest
        self.multi_layers: dict[str, str] = {}  # "linux/amd64" -> that platform's layer digest
        self.timings: dict[str, float] = {}
        self._bin: dict[str, str] = {}
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []
        self._netns_made: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        problems = missing_prerequisites()
        if problems:
            self.stop()  # removes the work dir made in __init__
            raise LabError("fault lab prerequisites missing: " + "; ".join(problems))
        self._bin = {name: str(_which(name)) for name in BINARIES}
        t0 = time.monotonic()
        try:
            self._write_files()
            self._make_pki()
            t1 = time.monotonic()
            self._make_network()
            self._spawn_servers()
            t2 = time.monotonic()
            self._wait_ready(timeout=15)
            _run([self._bin["ip"], "netns", "exec", self.client_ns, self._bin["nft"], "-f", "-"], input=EGRESS_NFT)
            t3 = time.monotonic()
            self._push_images()
        except BaseException as exc:
            detail = self._log_tails()
            self.stop()
            if isinstance(exc, Exception):
                raise LabError(f"fault lab failed to start: {exc}\n{detail}") from exc
            raise
        t4 = time.monotonic()
        self.timings.update(pki=t1 - t0, network_spawn=t2 - t1, ready=t3 - t2, push=t4 - t3, start=t4 - t0)

    def stop(self) -> None:
        """Kill every server (SIGTERM, 5 s grace, SIGKILL), then delete both namespaces and the work dir.

        Idempotent. Set REGDOCTOR_LAB_KEEP=1 to keep the work dir (logs, certificates) for debugging.
        """
        t0 = time.monotonic()
        recorded = {proc.pid for _name, proc in self._procs}
        # Processes the servers started themselves (squid's auth helper, dnsmasq's TCP children) are
        # orphaned when their parent dies. As a child subreaper for the duration, this process inherits
        # and reaps them, instead of leaving <defunct> entries for a (possibly lazy) init to collect.
        indirect = {pid for ns in self._netns_made for pid in self._netns_pids(ns)} - recorded
        was_subreaper = _set_child_subreaper(True)
        try:
            for _name, proc in self._procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 5
            for _name, proc in self._procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            for _name, proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            self._procs.clear()
            # Anything still inside our namespaces was started by the lab (a helper, a command a test
            # left behind); `ip netns del` alone would not end it.
            for ns in self._netns_made:
                for pid in self._netns_pids(ns):
                    indirect.add(pid)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            _reap(indirect, timeout=2)
        finally:
            _set_child_subreaper(was_subreaper)
        for ns in self._netns_made:
            subprocess.run([self._bin.get("ip", "ip"), "netns", "del", ns], capture_output=True, check=False)
        self._netns_made.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
        if not os.environ.get("REGDOCTOR_LAB_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.timings["stop"] = time.monotonic() - t0

    def _netns_pids(self, ns: str) -> set[int]:
        ip = self._bin.get("ip", "ip")
        out = subprocess.run([ip, "netns", "pids", ns], capture_output=True, text=True, check=False).stdout
        return {int(p) for p in out.split() if p.isdigit()}

    @staticmethod
    def records(log: Path) -> list[dict[str, Any]]:
        """The JSON lines of `token_log`, `data_log` or `acrflow_log` so far (a half-written last line is skipped)."""
        if not log.exists():
            return []
        out = []
        for line in log.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
        return out

    @property
    def servers(self) -> dict[str, int]:
        """Name -> PID of every server the lab started (for tests that check teardown)."""
        return {name: proc.pid for name, proc in self._procs}

    # ------------------------------------------------------------------ running things in the client netns

    def client(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        resolv: str | None = None,
        timeout: float = 60,
        input: str | bytes | None = None,  # mirrors subprocess.run
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` in the client netns with the lab resolver and a clean environment.

        /etc/resolv.conf (and /etc/nsswitch.conf, pinned to `hosts: files dns`) are bind-mounted in the
        private mount namespace `ip netns exec` creates, so the host's /etc is never touched. `resolv`
        replaces the lab resolv.conf text for this call. The environment is PATH, HOME=<lab>/home and
        LANG=C.UTF-8 (no proxy variables leak from the host), updated with `env`. Never raises on a
        non-zero exit; raises subprocess.TimeoutExpired (after killing the command's process group)
        when `timeout` passes.
        """
        resolv_file = self.resolv_file if resolv is None else self._custom_resolv(resolv)
        mount = shlex.quote(self._bin["mount"])
        script = f'{mount} --bind "$0" /etc/resolv.conf && {mount} --bind "$1" /etc/nsswitch.conf && shift && exec "$@"'
        cmd = [
            self._bin["ip"], "netns", "exec", self.client_ns, self._bin["sh"], "-c", script,
            str(resolv_file), str(self.dir / "etc" / "nsswitch.conf"), *argv,
        ]  # fmt: skip
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._client_env(env),
            cwd=self.home,
            start_new_session=True,  # one process group, so a timeout kills the whole tree
        )
        try:
            out, err = proc.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(
            list(argv), proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
        )

    def regdoctor(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """The regdoctor under test (the one installed next to this interpreter) in the client netns."""
        scripts = Path(sysconfig.get_path("scripts")) / "regdoctor"
        exe = str(scripts) if scripts.exists() else shutil.which("regdoctor")
        if exe is None:
            raise LabError("regdoctor is not installed (pip install -e .)")
        r = self.client([exe, *args], **kw)
        assert_texts_filled(r.stdout, args)
        return r

    def skopeo(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """skopeo in the client netns, isolated from the host's containers config, auth and policy."""
        env = self.skopeo_env() | dict(kw.pop("env", None) or {})
        containers = self.dir / "containers"
        argv = [
            self._bin["skopeo"], "--policy", str(containers / "policy.json"),
            "--registries.d", str(containers / "registries.d"), *args,
        ]  # fmt: skip
        return self.client(argv, env=env, **kw)

    def skopeo_env(self) -> dict[str, str]:
        containers = self.dir / "containers"
        return {
            "CONTAINERS_REGISTRIES_CONF": str(containers / "registries.conf"),
            "REGISTRY_AUTH_FILE": str(containers / "auth.json"),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
        }

    def _client_env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        # The interpreter's scripts dir first: the regdoctor/python of this test run, not a pyenv shim.
        path = f"{sysconfig.get_path('scripts')}:{os.environ.get('PATH', '')}:{_SBIN_PATH}"
        env = {"PATH": path, "HOME": str(self.home), "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def _custom_resolv(self, text: str) -> Path:
        path = self.dir / "etc" / f"resolv-{hashlib.sha256(text.encode()).hexdigest()[:12]}.conf"
        if not path.exists():  # write-then-rename: concurrent callers never bind-mount a half-written file
            tmp = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
            tmp.write_text(text if text.endswith("\n") else text + "\n")
            tmp.replace(path)
        return path

    # ------------------------------------------------------------------ bring-up steps

    def _write_files(self) -> None:
        d = self.dir
        for sub in ("pki", "etc", "home", "logs", "registry/data", "containers/registries.d", "image"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "run").mkdir(mode=0o700)
        self.resolv_file.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        (d / "etc" / "nsswitch.conf").write_text(_nsswitch())
        c = d / "containers"
        (c / "registries.conf").write_text("unqualified-search-registries = []\n")
        (c / "auth.json").write_text("{}\n")
        (c / "policy.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        (d / "registry" / "config.yml").write_text(
            "version: 0.1\n"
            "log: {level: warn, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.storage_root}}}, delete: {{enabled: true}},"
            " maintenance: {uploadpurging: {enabled: false}}}\n"
            f"http: {{addr: '{SERVER_IP}:5000', secret: lab-only-not-a-secret}}\n"
        )
        for port in TOKEN_REGISTRIES:
            (d / "registry" / f"config-{port}.yml").write_text(self._token_registry_config(port))
        squid = d / "squid"
        squid.mkdir()
        (squid / "squid.conf").write_text(_squid_conf(squid))
        shutil.chown(squid, "proxy", "proxy")  # squid drops to `proxy` before opening its logs
        (d / "danted").mkdir()
        (d / "danted" / "danted.conf").write_text(_danted_conf())
        image = write_oci_layout(d / "image" / "oci", self.image_tag)
        self.manifest_digest, self.layer_digest = image.manifest_digest, image.layer_digest
        self.config_digest = image.config_digest
        multi = write_oci_index_layout(d / "image" / "multi", self.image_tag)
        self.multi_digest, self.multi_manifests, self.multi_layers = multi.index_digest, multi.manifests, multi.layers

    def _token_registry_config(self, port: int) -> str:
        # One file per instance: the middleware section is a list, which REGISTRY_* env overrides cannot set.
        realm, baseurl = TOKEN_REGISTRIES[port]
        pki = self.dir / "pki"
        return (
            "version: 0.1\n"
            "log: {level: warn, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.storage_root}}}, delete: {{enabled: true}},"
            " maintenance: {uploadpurging: {enabled: false}}}\n"
            f"http: {{addr: '{SERVER_IP}:{port}', secret: lab-only-not-a-secret,"
            f" tls: {{certificate: {pki}/good.crt, key: {pki}/good.key}}}}\n"
            f"auth: {{token: {{realm: '{realm}', service: {TOKEN_SERVICE}, issuer: {TOKEN_ISSUER},"
            f" rootcertbundle: {self.token_signing_cert}}}}}\n"
            # distribution 2.8 keeps only the scheme and host of baseurl; the path is the storage driver's.
            f"middleware: {{storage: [{{name: redirect, options: {{baseurl: '{baseurl}'}}}}]}}\n"
        )

    def _make_pki(self) -> None:
        pki = self.dir / "pki"
        (pki / "lab.cnf").write_text(OPENSSL_CNF)
        (pki / "newcerts").mkdir()
        (pki / "index.txt").write_text("")
        (pki / "serial").write_text("1000\n")
        (pki / "ca.cnf").write_text(
            "[ca]\ndefault_ca = labca\n[labca]\n"
            f"database = {pki}/index.txt\nnew_certs_dir = {pki}/newcerts\nserial = {pki}/serial\n"
            "default_md = sha256\npolicy = pol\nunique_subject = no\ncopy_extensions = none\n"
            "[pol]\ncommonName = supplied\n"
        )
        ossl, cnf = self._bin["openssl"], str(pki / "lab.cnf")
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

        def ca(name: str, subj: str) -> list[str]:
            return [ossl, "req", "-x509", *newkey, "-config", cnf, "-extensions", "v3_ca", "-days", "3650",
                    "-subj", subj, "-keyout", f"{pki}/{name}.key", "-out", f"{pki}/{name}.crt"]  # fmt: skip

        def csr(name: str, cn: str = "registry.lab.test") -> list[str]:
            return [ossl, "req", "-new", *newkey, "-config", cnf, "-subj", f"/CN={cn}",
                    "-keyout", f"{pki}/{name}.key", "-out", f"{pki}/{name}.csr"]  # fmt: skip

        def sign(name: str, ca_name: str, ext: str) -> list[str]:
            return [ossl, "x509", "-req", "-in", f"{pki}/{name}.csr", "-CA", f"{pki}/{ca_name}.crt",
                    "-CAkey", f"{pki}/{ca_name}.key", "-set_serial", str(secrets.randbits(63)), "-days", "825",
                    "-extfile", cnf, "-extensions", ext, "-out", f"{pki}/{name}.crt"]  # fmt: skip

        def ca_dated(name: str, start: str, end: str, ext: str) -> list[str]:
            # `openssl ca` is the only stock way to put a leaf's validity in the past.
            return [ossl, "ca", "-batch", "-notext", "-config", f"{pki}/ca.cnf", "-cert", f"{pki}/ca.crt",
                    "-keyfile", f"{pki}/ca.key", "-in", f"{pki}/{name}.csr", "-out", f"{pki}/{name}.crt",
                    "-startdate", start, "-enddate", end, "-extfile", cnf, "-extensions", ext]  # fmt: skip

        leaves = ("good", "expired", "notyet", "rogue", "wrongname", "inspection")
        _run_parallel(
            [
                # The lab root plays the public CA behind real registries. For *.azurecr.io names regdoctor
                # expects Microsoft's issuer organisation (anything else looks like TLS interception), so
                # the lab root carries that organisation; the Contoso CA below plays the interceptor.
                ca("ca", "/O=Microsoft Corporation/CN=regdoctor Lab Root CA"),
                ca("rogue-ca", "/O=regdoctor lab/CN=Rogue Lab CA"),
                ca("inspection-ca", "/O=Contoso Secure Web Gateway/CN=Contoso TLS Inspection CA"),
                *(csr(name) for name in leaves),
                csr("data", "data.lab.test"),
                [ossl, "req", "-x509", *newkey, "-config", cnf, "-extensions", "srv_self", "-days", "825",
                 "-subj", "/CN=registry.lab.test", "-keyout", f"{pki}/selfsigned.key",
                 "-out", f"{pki}/selfsigned.crt"],
                [ossl, "req", "-x509", *newkey, "-config", cnf, "-extensions", "v3_signer", "-days", "825",
                 "-subj", "/O=regdoctor lab/CN=Lab Token Signer", "-keyout", f"{pki}/token-signer.key",
                 "-out", f"{pki}/token-signer.crt"],
            ]
        )  # fmt: skip
        _run_parallel(
            [
                sign("good", "ca", "srv_good"),
                sign("wrongname", "ca", "srv_wrong"),
                sign("rogue", "rogue-ca", "srv_good"),
                sign("inspection", "inspection-ca", "srv_inspect"),
                sign("data", "ca", "srv_data"),
                # Two `openssl ca` runs share one database, so they go one after the other.
                [self._bin["sh"], "-c",
                 f"{shlex.join(ca_dated('expired', '20200101000000Z', '20200102000000Z', 'srv_expired'))}"
                 f" && {shlex.join(ca_dated('notyet', '20990101000000Z', '20991231000000Z', 'srv_good'))}"],
                [self._bin["htpasswd"], "-Bbc", f"{pki}/registry.htpasswd", LAB_USER, LAB_PASS],  # bcrypt: registry
                [self._bin["htpasswd"], "-mbc", str(self.dir / "squid" / "passwd"), PROXY_USER, PROXY_PASS],
            ]
        )  # fmt: skip
        (self.dir / "squid" / "passwd").chmod(0o644)  # read by squid's helper as `proxy`
        self.ca_dir.mkdir(parents=True)
        shutil.copy(self.ca_file, self.ca_dir / "ca.crt")

    def _make_network(self) -> None:
        ip = self._bin["ip"]
        c, s = self.client_ns, self.server_ns
        for ns in (c, s):
            if Path("/run/netns", ns).exists():
                # Left by a crashed run of a process that had our PID, so that process is gone: stale.
                _run([ip, "netns", "del", ns])
            _run([ip, "netns", "add", ns])
            self._netns_made.append(ns)
        # Both veth ends are created directly inside their namespaces: no name can clash in the root netns.
        _run([ip, "link", "add", CLIENT_VETH, "netns", c, "type", "veth", "peer", "name", SERVER_VETH, "netns", s])
        batch_c = (
            f"link set lo up\naddr add {CLIENT_IP}/24 dev {CLIENT_VETH}\nlink set {CLIENT_VETH} up\n"
            f"route add {PUBLIC_IP}/32 dev {CLIENT_VETH}\n"  # a host route only: still no default route
        )
        # The pull-path hosts are /32s on the server veth: inside the client's /24, so on-link (ARP answers
        # for each), and each one's behaviour is set by what binds it (or by nft, or by nothing).
        extra = [PUBLIC_IP, TOKEN_IP, TOKEN_DOWN_IP, EGRESS_IP, *DATA_HOSTS.values()]
        batch_s = (
            f"link set lo up\naddr add {SERVER_IP}/24 dev {SERVER_VETH}\n"
            + "".join(f"addr add {ip}/32 dev {SERVER_VETH}\n" for ip in extra)
            + f"link set {SERVER_VETH} up\n"
        )
        _run([ip, "-n", c, "-batch", "-"], input=batch_c)
        _run([ip, "-n", s, "-batch", "-"], input=batch_s)
        _run([ip, "netns", "exec", s, self._bin["nft"], "-f", "-"], input=NFT_RULES)

    def _spawn(self, name: str, ns: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        log = (self.dir / "logs" / f"{name}.log").open("wb")
        self._logs.append(log)
        # setpriv --pdeathsig: if the test process is killed outright, its servers get SIGTERM instead of
        # lingering. The flag survives the execs that follow (setpriv and `ip netns exec` exec, neither is
        # setuid); squid drops it when it changes user, and stop() still kills by PID. Not a preexec_fn:
        # that forces fork() instead of vfork(), about 8 ms per server with a pytest-sized parent.
        proc = subprocess.Popen(
            # setpriv and ip both exec: proc.pid is the server's own PID.
            [self._bin["setpriv"], "--pdeathsig", "TERM", "--", self._bin["ip"], "netns", "exec", ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            env={"PATH": _SBIN_PATH, "HOME": str(self.home), "LANG": "C.UTF-8", **(env or {})},
        )
        self._procs.append((name, proc))

    def _spawn_servers(self) -> None:
        pki, s, c = self.dir / "pki", self.server_ns, self.client_ns
        for port, cert in REGISTRY_PORTS.items():
            env = {"REGISTRY_HTTP_ADDR": f"{SERVER_IP}:{port}"}
            if cert is not None:
                env |= {
                    "REGISTRY_HTTP_TLS_CERTIFICATE": f"{pki}/{cert}.crt",
                    "REGISTRY_HTTP_TLS_KEY": f"{pki}/{cert}.key",
                }
            if port == AUTH_PORT:
                env |= {
                    "REGISTRY_AUTH": "htpasswd",
                    "REGISTRY_AUTH_HTPASSWD_REALM": "regdoctor-lab",
                    "REGISTRY_AUTH_HTPASSWD_PATH": f"{pki}/registry.htpasswd",
                }
            self._spawn(
                f"registry-{port}",
                s,
                [self._bin["docker-registry"], "serve", str(self.dir / "registry" / "config.yml")],
                env,
            )
        self._spawn(
            "registry-egress",
            s,
            [self._bin["docker-registry"], "serve", str(self.dir / "registry" / "config.yml")],
            {"REGISTRY_HTTP_ADDR": f"{EGRESS_IP}:443", "REGISTRY_HTTP_TLS_CERTIFICATE": f"{pki}/good.crt",
             "REGISTRY_HTTP_TLS_KEY": f"{pki}/good.key"},
        )
        for port in TOKEN_REGISTRIES:
            self._spawn(
                f"registry-{port}",
                s,
                [self._bin["docker-registry"], "serve", str(self.dir / "registry" / f"config-{port}.yml")],
            )
        py, tls = sys.executable, ["--cert", f"{pki}/good.crt", "--key", f"{pki}/good.key"]
        data_tls = ["--cert", f"{pki}/data.crt", "--key", f"{pki}/data.key"]
        acr = ["--storage", str(self.storage_root), "--log", str(self.acrflow_log)]
        self._spawn("fronts-server", s, [py, str(HERE / "fronts.py"), *tls, *acr, *SERVER_FRONTS])
        self._spawn("fronts-data", s, [py, str(HERE / "fronts.py"), *data_tls, *DATA_FRONTS])
        pullpath = [py, str(HERE / "pullpath.py")]
        self._spawn(
            "token",
            s,
            [*pullpath, "token", "--listen", f"{TOKEN_IP}:{TOKEN_PORT}", *data_tls,
             "--sign-cert", str(self.token_signing_cert), "--sign-key", f"{pki}/token-signer.key",
             "--issuer", TOKEN_ISSUER, "--service", TOKEN_SERVICE, "--log", str(self.token_log)],
        )  # fmt: skip
        self._spawn(
            "datahost",
            s,
            [*pullpath, "data", "--root", str(self.storage_root), "--log", str(self.data_log),
             f"{DATA_IP}:443={pki}/data.crt,{pki}/data.key",
             f"{DATA_HOSTS['data-badtls']}:443={pki}/expired.crt,{pki}/expired.key"],
        )  # fmt: skip
        self._spawn("fronts-client", c, [py, str(HERE / "fronts.py"), *CLIENT_FRONTS])
        self._spawn("fakedns", c, [py, str(HERE / "fakedns.py"), *FAKEDNS])
        dnsmasq = [
            self._bin["dnsmasq"], "--conf-file=/dev/null", "--keep-in-foreground", "--log-facility=-",
            "--log-queries", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
            "--listen-address=127.0.0.1", "--port=53", "--user=root", "--pid-file=", *DNSMASQ_RECORDS,
        ]  # fmt: skip
        self._spawn("dnsmasq", c, dnsmasq)
        self._spawn("squid", c, [self._bin["squid"], "-N", "-f", str(self.dir / "squid" / "squid.conf")])
        # danted resolves the names clients send it with libc: the lab's resolv.conf, bound as for a client
        mount = shlex.quote(self._bin["mount"])
        self._spawn("danted", c, [
            self._bin["sh"], "-c", f'{mount} --bind "$0" /etc/resolv.conf && {mount} --bind "$1" /etc/nsswitch.conf '
            '&& shift && exec "$@"', str(self.resolv_file), str(self.dir / "etc" / "nsswitch.conf"),
            self._bin["danted"], "-f", str(self.dir / "danted" / "danted.conf"), "-N", "1",
        ])  # fmt: skip

    def _wait_ready(self, timeout: float) -> None:
        addrs = [(SERVER_IP, port) for port in [*REGISTRY_PORTS, *TOKEN_REGISTRIES]]
        addrs += [_spec_addr(spec) for spec in SERVER_FRONTS + CLIENT_FRONTS + DATA_FRONTS]
        addrs += [(TOKEN_IP, TOKEN_PORT), (DATA_IP, 443), (DATA_HOSTS["data-badtls"], 443)]
        addrs += [("127.0.0.1", SQUID_OPEN_PORT), ("127.0.0.1", SQUID_AUTH_PORT), ("127.0.0.1", SQUID_EGRESS_PORT)]
        addrs += [("127.0.0.1", SOCKS_PORT)]
        addrs += [(EGRESS_IP, 443)]  # before EGRESS_NFT shuts direct access
        waiter = subprocess.Popen(
            [self._bin["ip"], "netns", "exec", self.client_ns, sys.executable, "-I", "-S", "-c", WAITER,
             str(timeout), json.dumps(addrs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        # Watch the servers while waiting: a server that dies at start fails fast with its log.
        while waiter.poll() is None:
            dead = [name for name, proc in self._procs if proc.poll() is not None]
            if dead:
                waiter.kill()
                waiter.wait()
                raise LabError(f"server(s) exited during start: {', '.join(dead)}")
            time.sleep(0.02)
        out, err = waiter.communicate()
        try:
            report = json.loads(out)
        except json.JSONDecodeError as exc:
            raise LabError(f"readiness waiter failed: {err.strip()}") from exc
        if report["pending"] or report["dns"]:
            raise LabError(f"not ready after {timeout} s: ports {report['pending']}, dns {report['dns']}")

    def _push_images(self) -> None:
        # From the client netns to the plain-HTTP registry; the shared storage makes them visible on every
        # port. The pushes are independent, so they run side by side.
        image, multi, tag = self.dir / "image" / "oci", self.dir / "image" / "multi", self.image_tag
        pushes = {
            self.image_repo: (f"oci:{image}:{tag}", self.manifest_digest),
            self.private_repo: (f"oci:{image}:{tag}", self.manifest_digest),
            # --all: the index and every platform image, not just the one matching this host.
            self.multi_repo: (f"oci:{multi}:{tag}", self.multi_digest),
            DOCKER_HUB_REPO: (f"oci:{image}:{tag}", self.manifest_digest),  # Docker Hub's role
        }

        def push(repo: str) -> str | None:
            src = pushes[repo][0]
            all_ = ["--all"] if repo == self.multi_repo else []
            res = self.skopeo(
                "copy", "--retry-times", "2", "--dest-tls-verify=false", *all_,
                src, f"docker://registry.lab.test:5000/{repo}:{tag}", timeout=60,
            )  # fmt: skip
            return None if res.returncode == 0 else f"{repo}: {res.stderr.strip()}"

        with ThreadPoolExecutor(max_workers=len(pushes)) as pool:
            failed = [err for err in pool.map(push, pushes) if err]
        if failed:
            raise LabError("image push failed: " + "; ".join(failed))
        for repo, (_src, digest) in pushes.items():
            tags = self.storage_root / "docker/registry/v2/repositories" / repo / "_manifests/tags"
            stored = (tags / tag / "current/link").read_text().strip()
            if stored != digest:  # skopeo must not have converted the manifest (or the index)
                raise LabError(f"registry stored {stored} for {repo}, expected {digest}")

    def _log_tails(self, lines: int = 15) -> str:
        out = []
        for log in sorted((self.dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace").strip().splitlines()[-lines:]
            if text:
                out.append(f"--- {log.name}\n" + "\n".join(text))
        cache_log = self.dir / "squid" / "cache.log"
        if cache_log.exists():
            out.append("--- squid cache.log\n" + "\n".join(cache_log.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)


def _set_child_subreaper(on: bool) -> bool:
    """Set this process's child-subreaper flag; return the previous setting."""
    libc = ctypes.CDLL(None, use_errno=True)
    old = ctypes.c_int(0)
    libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(old))
    libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on))
    return bool(old.value)


def _reap(pids: set[int], timeout: float) -> None:
    """Wait (at most `timeout`) until each PID is gone, reaping those that were re-parented to us."""
    pending, deadline = set(pids), time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pending.discard(pid)
            except ChildProcessError:  # not our child: already gone, or its parent is still alive
                if not Path(f"/proc/{pid}").exists():
                    pending.discard(pid)
        if pending:
            time.sleep(0.02)


def _spec_addr(spec: str) -> tuple[str, int]:
    host, _, port = spec.partition("@")[2].removesuffix("+tls").rpartition(":")
    return host, int(port)


def _run(argv: Sequence[str], input: str | None = None) -> None:
    res = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise LabError(f"{shlex.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")


def _run_parallel(cmds: Sequence[Sequence[str]]) -> None:
    procs = [(cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)) for cmd in cmds]
    failed = []
    for cmd, proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            failed.append(f"{shlex.join(cmd)}: {out.decode(errors='replace').strip()}")
    if failed:
        raise LabError("\n".join(failed))


def _nsswitch() -> str:
    # The host's nsswitch.conf with `hosts:` pinned to files+dns. A host line such as `resolve` or
    # `mdns` would hand lookups to a daemon in the host's netns, which could query the real network.
    try:
        lines = Path("/etc/nsswitch.conf").read_text().splitlines()
    except OSError:
        lines = ["passwd: files", "group: files", "shadow: files"]
    kept = [line for line in lines if not line.lstrip().startswith("hosts:")]
    return "\n".join([*kept, "hosts: files dns"]) + "\n"


def _danted_conf() -> str:
    """Dante as a SOCKS5 proxy in the client netns: out over the veth (and loopback), no authentication,
    CONNECT refused to blocked.lab.test by name (RFC 1928 reply 2, as squid refuses it with a 403). The rule
    is a domain one (`.blocked.lab.test`): a plain name Dante resolves when it reads its config, to the
    registry's own address here, and would refuse every host there."""
    return f"""\
logoutput: stderr
internal: 127.0.0.1 port = {SOCKS_PORT}
external: {CLIENT_VETH}
external: lo
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}
socks block {{ from: 0.0.0.0/0 to: .blocked.lab.test }}
socks pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 command: connect }}
"""


def _squid_conf(squid_dir: Path) -> str:
    ports = "5440-5460 8443-8460 443"  # 443 so the broken-privatelink endpoint (20.50.60.70:443) can tunnel
    return f"""\
http_port 127.0.0.1:{SQUID_OPEN_PORT} name=open
http_port 127.0.0.1:{SQUID_AUTH_PORT} name=authed
http_port 127.0.0.1:{SQUID_EGRESS_PORT} name=egress
visible_hostname lab-proxy
pid_filename {squid_dir}/squid.pid
cache_log {squid_dir}/cache.log
access_log stdio:{squid_dir}/access.log
coredump_dir {squid_dir}
netdb_filename none
cache deny all
pinger_enable off
dns_nameservers 127.0.0.1
hosts_file none
shutdown_lifetime 0 seconds
connect_timeout 5 seconds
cache_effective_user proxy
auth_param basic program {SQUID_NCSA} {squid_dir}/passwd
auth_param basic realm lab-proxy
acl lab_clients src 127.0.0.0/8 10.200.0.0/24
acl SSL_ports port {ports}
acl Safe_ports port 5000 {ports}
acl CONNECT method CONNECT
acl blocked dstdomain blocked.lab.test
acl on_authed myportname authed
acl on_egress myportname egress
acl data_endpoints dstdomain .data.azurecr.io
acl authenticated proxy_auth REQUIRED
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access deny blocked
http_access deny on_authed !authenticated
http_access deny on_egress data_endpoints
http_access allow lab_clients
http_access deny all
"""
