"""Capture what real clients print for every fault of the lab, as test fixtures for `regdoctor explain`.

Runs the clients inside the fault lab's client network namespace (tests/lab/lab.py: root, network
namespaces, docker-registry, squid, dnsmasq), one case per lab fault, and stores each client's exact
output with the code `regdoctor explain` must rank first:

    tests/fixtures/client_errors/<client>-<case>.json
    {"client", "client_version", "case", "fault", "argv", "env", "exit_code", "stdout", "stderr",
     "expected_code", "also", "note"}

- `stderr`/`stdout` are the client's output as produced (lab paths in `argv` are shown as $LAB).
- `expected_code` is the best reading of the *text*. Where the text cannot tell the lab's fault from
  another (skopeo drops a 403 body; Go prints `no such host` for NXDOMAIN and NODATA alike; a silent
  proxy and a dropped SYN both end in `context deadline exceeded`), the lab's real fault is listed in
  `also` (it must be among the ranked causes) and `note` says why.

Clients (Debian packages): skopeo 1.9 (always, the lab needs it), the docker CLI alone (`docker manifest
inspect`), podman 4.3 and buildah 1.28 (`pull`), containerd's `ctr images pull` against a containerd in
the client namespace, and `docker pull` / `docker login` through a real dockerd 20.10 (tests/lab/daemons.py:
each daemon with its own root, state and socket). The proxy of a case is the daemon's own environment for
dockerd, the process environment for the others (who reads which proxy: docs/reference/client-errors.md
§4). Nothing leaves the machine: the lab's namespaces have no route out.

    sudo python scripts/capture_client_errors.py                 # all clients, all cases
    sudo python scripts/capture_client_errors.py --client skopeo --only dns-nxdomain refused-5449
    sudo python scripts/capture_client_errors.py --check         # capture, explain, compare; write nothing
    sudo python scripts/capture_client_errors.py --verb login    # each client's `login` to the case's registry
    sudo python scripts/capture_client_errors.py --verb push     # each client pushes the lab's image there

tests/unit/test_explain_fixtures.py asserts that every stored output is explained with its code.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "client_errors"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

R = "registry.lab.test"
CLIENT_NAMES = ("skopeo", "docker", "podman", "buildah", "ctr", "dockerd")


#: docker reports the URL its redirect led to and not the registry it pulled from: the text alone cannot
#: tell a blocked backend from a blocked registry (skopeo, podman and ctr name both)
_REDIRECT_UNSEEN = ("the text names only the host the registry's redirect led to, not the registry: nothing in it "
                    "says that the registry itself answered")


@dataclass(frozen=True)
class Case:
    """One lab fault as a client meets it."""

    name: str
    fault: str
    host: str
    port: int | None
    expected: str
    repo: str = "lab/hello"
    tag: str = "latest"
    env: dict[str, str] = field(default_factory=dict)
    resolv: str | None = None
    #: skopeo-only extra arguments (credentials)
    creds: str | None = None
    timeout: str = "10s"
    also: tuple[str, ...] = ()
    note: str = ""
    clients: tuple[str, ...] = CLIENT_NAMES
    #: client -> (expected code, also, note) where that client's text says something else
    per_client: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)
    #: dockerd only: the docker CLI's ~/.docker/config.json (its `proxies` reach containers, never the daemon)
    docker_config: dict[str, Any] | None = None
    #: dockerd only: what the CLI asks the daemon (default: pull the case's image)
    docker_verb: str = "pull"
    #: whether a login meets the fault too (`--verb login`: it asks for /v2/ and a token, no repository)
    login: bool = True
    #: client (or "*": any) -> the expectation for a login where it is not the pull's
    login_expected: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)
    #: whether a push meets the fault too (`--verb push`: blob uploads and a manifest PUT)
    push: bool = True
    #: client (or "*": any) -> the expectation for a push where it is not the pull's
    push_expected: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)

    def docker_args(self, ref: str, verb: str = "pull") -> list[str]:
        if "login" in (verb, self.docker_verb):
            user, _, password = (self.creds or "x:x").partition(":")
            return ["login", "-u", user, "-p", password, ref.split("/", 1)[0]]
        return ["pull", ref]

    def expectation(self, client: str, verb: str = "pull") -> tuple[str, tuple[str, ...], str]:
        special = {"login": self.login_expected, "push": self.push_expected}.get(verb, {})
        for key in (client, "*"):
            if key in special:
                return special[key]
        return self.per_client.get(client, (self.expected, self.also, self.note))

    def ref(self) -> str:
        return f"{self.host}{f':{self.port}' if self.port else ''}/{self.repo}:{self.tag}"


NO_DOCKER = ("skopeo", "podman", "buildah", "ctr", "dockerd")  # `docker manifest inspect` fetches no blob
#: the clients with a login of their own (`ctr` has none; the docker CLI logs in through dockerd), and
#: those that push here (skopeo copies from an OCI layout; podman and buildah load it first; dockerd `docker load`s it)
LOGIN_CLIENTS = PUSH_CLIENTS = ("skopeo", "podman", "buildah", "dockerd")
CREDS = ("skopeo", "podman", "buildah", "ctr")  # clients that take credentials on the command line
_NOT_TEXT = "the text alone cannot tell them apart; the lab's fault must be among the ranked causes"
#: containerd's form of docker's "pull access denied …": one verdict for both (kb symptom docker.pull_access_denied)
_CTR_PULL_ACCESS_DENIED = ('REGISTRY_NAME_UNKNOWN', ('AUTH_CREDENTIALS_REQUIRED', 'AUTH_INSUFFICIENT_SCOPE'),
                           "containerd says, as docker does, that the repository does not exist or needs "
                           "authorization (the token service's insufficient_scope): its text cannot tell which")

CASES: tuple[Case, ...] = (
    # ---- DNS
    Case("dns-nxdomain", "NXDOMAIN from the lab resolver", "nx.lab.test", 5441, "DNS_NXDOMAIN"),
    Case("dns-nodata", "the name exists with no A record (NODATA)", "nodata.lab.test", 5441, "DNS_NXDOMAIN",
         also=("DNS_NODATA",), note=f"Go prints `no such host` for NODATA too: {_NOT_TEXT}"),
    Case("dns-servfail", "the resolver answers SERVFAIL", "servfail.lab.test", 5441, "DNS_SERVFAIL"),
    Case("dns-refused", "the resolver answers REFUSED (no upstream for the zone)", "x.azurecr.io", None,
         "DNS_SERVFAIL", also=("DNS_REFUSED",), note=f"Go prints `server misbehaving` for REFUSED too: {_NOT_TEXT}"),
    Case("dns-timeout", "the resolver never answers", "dnstimeout.lab.test", 5441, "DNS_TIMEOUT"),
    Case("dns-resolver-down", "nothing listens on the configured nameserver", R, 5441, "DNS_RESOLVER_UNREACHABLE",
         resolv="nameserver 127.0.0.9\noptions timeout:1 attempts:1\n"),
    Case("dns-cgo-nxdomain", "NXDOMAIN through the cgo/libc resolver", "nx.lab.test", 5441, "DNS_NXDOMAIN",
         env={"GODEBUG": "netdns=cgo"}),
    Case("dns-cgo-servfail", "SERVFAIL through the cgo/libc resolver", "servfail.lab.test", 5441, "DNS_SERVFAIL",
         env={"GODEBUG": "netdns=cgo"}),
    # ---- TCP
    Case("refused-5449", "nothing listens (RST)", R, 5449, "TCP_REFUSED"),
    Case("no-route-8443", "ICMP host unreachable", R, 8443, "TCP_HOST_UNREACHABLE"),
    Case("net-unreachable-8445", "ICMP network unreachable", R, 8445, "TCP_NET_UNREACHABLE"),
    Case("blackhole-arp", "an on-link address nobody answers (ARP fails)", "blackhole.lab.test", 443,
         "TCP_HOST_UNREACHABLE", timeout="15s"),
    Case("drop-5455", "SYN silently dropped", R, 5455, "TCP_TIMEOUT", timeout="3s"),
    Case("reset-5458", "the server resets the connection", R, 5458, "TCP_RESET"),
    # ---- TLS
    Case("http-registry-https-client-5000", "a plain-HTTP registry on the port", R, 5000, "TLS_NOT_TLS",
         per_client={
             'docker': ('REGISTRY_MANIFEST_UNKNOWN', (),
                 'docker manifest inspect falls back to plain HTTP here and then reports the '
                 'manifest as missing: the TLS fault never shows in its text'),
         }),
    Case("expired-5444", "expired certificate", R, 5444, "TLS_EXPIRED"),
    Case("notyet-5445", "certificate not yet valid", R, 5445, "TLS_NOT_YET_VALID"),
    Case("rogue-ca-5446", "certificate from an untrusted CA", R, 5446, "TLS_UNKNOWN_CA"),
    Case("wrong-name-5447", "certificate for another name", R, 5447, "TLS_NAME_MISMATCH"),
    Case("self-signed-5448", "self-signed certificate", R, 5448, "TLS_UNKNOWN_CA", also=("TLS_SELF_SIGNED",),
         note=f"Go reports a self-signed leaf as `unknown authority`: {_NOT_TEXT}"),
    Case("inspection-5440", "a TLS-inspection CA re-signs the registry (untrusted here)", "labreg.azurecr.io", 5440,
         "TLS_INTERCEPTED", also=("TLS_UNKNOWN_CA",),
         note="an unknown authority on a hosted registry whose certificate chains to a public CA (azurecr.io) "
              "is someone else's certificate in the path, as `check` finds from the issuer"),
    Case("tls-hang-5454", "the peer accepts and never answers the ClientHello", R, 5454, "TLS_HANDSHAKE_TIMEOUT",
         timeout="30s"),
    Case("readclose-5457", "the peer reads the ClientHello and closes", R, 5457, "TLS_HANDSHAKE_CLOSED"),
    Case("tls-close-5460", "the peer completes TLS, then closes without answering", R, 5460,
         "TLS_HANDSHAKE_CLOSED", also=("HTTP_CONNECTION_CLOSED",),
         note=f"Go prints the same bare `EOF` whether the close came during or after the handshake: {_NOT_TEXT}"),
    # ---- HTTP answers
    Case("acr403-5450", "ACR firewall 403 DENIED on /v2/", R, 5450, "HTTP_FIREWALL_DENIED",
         also=("HTTP_MIDDLEBOX_BLOCKED",), note="skopeo drops the 403 body on /v2/: a web filter would read the same",
         per_client={
             'dockerd': ('HTTP_FIREWALL_DENIED', (),
                 "docker shows ACR's DENIED body"),
             'docker': ('HTTP_FIREWALL_DENIED', (),
                 "docker shows ACR's DENIED body"),
         }),
    Case("privatelink-broken-443", "private link DNS falls through to the public endpoint, which says 403",
         "brokenreg.azurecr.io", None, "HTTP_FIREWALL_DENIED", also=("DNS_PRIVATELINK_PUBLIC",),
         note=f"the client only sees the public endpoint's 403: {_NOT_TEXT}"),
    Case("429-5451", "429 with Docker Hub's body on every request", R, 5451, "HTTP_RATE_LIMITED", timeout="30s"),
    Case("502-html-5452", "an HTML 502 from a gateway", R, 5452, "HTTP_MIDDLEBOX_BLOCKED"),
    Case("403-html-5453", "an HTML 403 from a web filter", R, 5453, "HTTP_FIREWALL_DENIED",
         also=("HTTP_MIDDLEBOX_BLOCKED",),
         note=f"skopeo drops the body of a 403 on /v2/, so the HTML is lost: {_NOT_TEXT}",
         per_client={
             'dockerd': ('HTTP_MIDDLEBOX_BLOCKED', (),
                 "docker shows the filter's HTML page"),
             'docker': ('HTTP_MIDDLEBOX_BLOCKED', (),
                 "docker shows the filter's HTML page"),
         }),
    Case("503-json-5442", "the registry answers 503", R, 5442, "HTTP_SERVER_ERROR"),
    Case("garbage-8450", "an SSH banner where HTTP is expected", R, 8450, "HTTP_MALFORMED_RESPONSE"),
    Case("endless-headers-8451", "response headers that never end", R, 8451, "HTTP_MALFORMED_RESPONSE",
         timeout="30s"),
    # ---- auth and registry
    Case("auth-missing-5443", "basic-auth registry, no credentials", R, 5443, "AUTH_CREDENTIALS_REQUIRED"),
    Case("token-private-anonymous-5601", "anonymous pull of a private repository", R, 5601,
         "AUTH_CREDENTIALS_REQUIRED", repo="lab/private", also=("AUTH_INSUFFICIENT_SCOPE",),
         per_client={
             'dockerd': ('REGISTRY_NAME_UNKNOWN', ('AUTH_CREDENTIALS_REQUIRED',),
                 'docker says the repository does not exist or needs a login: its text cannot '
                 'tell which'),
             'ctr': _CTR_PULL_ACCESS_DENIED,
         }),
    Case("token-private-limited-5601", "a user without pull rights on the repository", R, 5601,
         "AUTH_CREDENTIALS_REQUIRED", repo="lab/private", creds="limited:limitedpass", clients=CREDS,
         also=("AUTH_INSUFFICIENT_SCOPE",),
         note=f"containers/image prints the same errors block for anonymous and under-privileged pulls: {_NOT_TEXT}",
         per_client={'ctr': _CTR_PULL_ACCESS_DENIED}),
    Case("token-wrong-password-5601", "wrong password at the token service", R, 5601, "AUTH_BAD_CREDENTIALS",
         creds="labuser:nope", clients=CREDS),
    Case("token-realm-down-5602", "the token service host is blackholed", R, 5602, "AUTH_REALM_UNREACHABLE",
         timeout="3s"),
    Case("token-throttled-5603", "the token service answers 429", R, 5603, "HTTP_RATE_LIMITED",
         also=("AUTH_TOKEN_THROTTLED",), timeout="30s",
         note=f"containers/image prints the same text for a throttled registry and token service: {_NOT_TEXT}",
         per_client={
             'ctr': ('AUTH_TOKEN_THROTTLED', (),
                 'containerd names the token request that was throttled'),
             'dockerd': ('HTTP_RATE_LIMITED', (),
                 'docker attributes the 429 to the manifest URL it was fetching'),
             'docker': ('HTTP_RATE_LIMITED', (),
                 'docker attributes the 429 to the manifest URL it was fetching'),
         }),
    Case("acr403-manifest-5610", "ACR firewall 403 DENIED on the manifest only", R, 5610, "HTTP_FIREWALL_DENIED",
         also=("REGISTRY_FIREWALL_DENIED",),
         per_client={
             'dockerd': ('HTTP_FIREWALL_DENIED', (),
                 "docker shows ACR's DENIED body, not which request it refused"),
         }),
    Case("manifest-unknown-5441", "a tag that does not exist", R, 5441, "REGISTRY_MANIFEST_UNKNOWN", tag="nope"),
    # ---- data endpoints (the config blob is 307-redirected to a data host); `docker manifest inspect`
    # fetches no blob, so these faults never reach it
    Case("data-drop-5604", "the data host is blackholed", R, 5604, "DATA_ENDPOINT_BLOCKED", timeout="3s",
         clients=NO_DOCKER),
    Case("data-refused-5605", "the data host refuses connections", R, 5605, "DATA_ENDPOINT_BLOCKED",
         clients=NO_DOCKER),
    Case("data-badtls-5606", "the data host has an expired certificate", R, 5606, "TLS_EXPIRED",
         clients=NO_DOCKER),
    Case("data-403-5607", "the storage answers 403", R, 5607, "DATA_ENDPOINT_DENIED", clients=NO_DOCKER),
    Case("data-nx-5608", "the data host does not resolve", R, 5608, "DATA_ENDPOINT_BLOCKED", clients=NO_DOCKER),
    Case("data-loop-5609", "the blob download redirects endlessly", R, 5609, "REGISTRY_REDIRECT_LOOP",
         clients=NO_DOCKER),
    # ---- a registry that hands its whole API to another host (registry.k8s.io's shape), blackholed
    Case("api-backend-drop-5614", "the backend the registry's API redirects to is blackholed", R, 5614,
         "DATA_ENDPOINT_BLOCKED", timeout="3s",
         per_client={
             'docker': ('TCP_TIMEOUT', (), _REDIRECT_UNSEEN),
             'dockerd': ('PROXY_NOT_CONFIGURED', ('TCP_TIMEOUT',), _REDIRECT_UNSEEN),
         }),
    # ---- proxies (squid and scripted bad proxies in the client netns)
    Case("proxy-blocked", "the proxy denies CONNECT to the host", "blocked.lab.test", 5441, "PROXY_DENIED",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-upstream-refused", "the proxy cannot connect upstream", R, 5449, "PROXY_UPSTREAM_FAILED",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-upstream-nxdomain", "the proxy cannot resolve the registry", "nx.lab.test", 5441,
         "PROXY_UPSTREAM_FAILED", env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-auth-missing", "the proxy needs credentials", R, 5441, "PROXY_AUTH_REQUIRED",
         env={"HTTPS_PROXY": "http://127.0.0.1:3132"}),
    Case("proxy-auth-wrong", "wrong proxy credentials", R, 5441, "PROXY_AUTH_REQUIRED",
         env={"HTTPS_PROXY": "http://labproxy:wrong@127.0.0.1:3132"}),
    Case("proxy-down-3129", "nothing listens on the proxy port", R, 5441, "PROXY_REFUSED",
         env={"HTTPS_PROXY": "http://127.0.0.1:3129"}),
    Case("proxy-readclose-3130", "the proxy reads CONNECT and closes", R, 5441, "PROXY_CLOSED",
         env={"HTTPS_PROXY": "http://127.0.0.1:3130"}),
    Case("proxy-silent-3131", "the proxy never answers CONNECT", R, 5441, "TCP_TIMEOUT", timeout="3s",
         env={"HTTPS_PROXY": "http://127.0.0.1:3131"}, also=("PROXY_NO_RESPONSE",),
         note=f"a silent proxy and a dropped SYN both end in `context deadline exceeded`: {_NOT_TEXT}",
         per_client={
             'ctr': ('PROXY_CLOSED', (),
                 'ctr reports a proxy that never answers CONNECT as `unexpected EOF` when its '
                 'own deadline closes the connection'),
             'dockerd': ('PROXY_NOT_CONFIGURED', ('PROXY_NO_RESPONSE',),
                 "a daemon's HTTP timeout: the text cannot show that the daemon had a proxy "
                 '(here one that never answers) or none at all'),
         }),
    Case("proxy-https-scheme", "https:// proxy URL for a plain-HTTP proxy", R, 5441,
         "PROXY_HTTPS_SCHEME_ON_HTTP_PROXY", env={"HTTPS_PROXY": "https://127.0.0.1:3128"}),
    Case("proxy-nxdomain", "the proxy's name does not resolve", R, 5441, "PROXY_UNRESOLVABLE",
         env={"HTTPS_PROXY": "http://proxy.nx.lab.test:3128"}),
    # ---- a real SOCKS5 proxy (Dante, client netns :1080): Go's x/net/proxy reports its RFC 1928 refusals
    Case("socks-blocked", "the SOCKS5 proxy refuses CONNECT to the host", "blocked.lab.test", 5441, "PROXY_DENIED",
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    Case("socks-upstream-refused", "the SOCKS5 proxy cannot connect upstream", R, 5449, "PROXY_UPSTREAM_FAILED",
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    Case("socks-upstream-nxdomain", "the SOCKS5 proxy cannot resolve the registry", "nx.lab.test", 5441,
         "PROXY_UPSTREAM_FAILED", env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    # the Go of these clients (1.19) takes only http, https and socks5 from the environment: `socks5h://`
    # is re-read as `http://socks5h://…`, a proxy host named socks5h
    Case("socks5h-scheme", "socks5h:// in HTTPS_PROXY, which this Go does not know", R, 5441, "PROXY_BAD_URL",
         env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080"}),
    Case("socks-down-1081", "nothing listens on the SOCKS5 proxy's port", R, 5441, "PROXY_REFUSED",
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1081"}),
    # ---- the seed article's case: a proxy set for the docker client but not the daemon, on a network
    # where only the proxy gets out (egress.lab.test: direct connections are rejected, squid's go through)
    Case("client-only-proxy", "proxy in ~/.docker/config.json only: the daemon goes direct and is rejected",
         "egress.lab.test", None, "TCP_HOST_UNREACHABLE", clients=("dockerd",),
         docker_config={"proxies": {"default": {"httpsProxy": "http://127.0.0.1:3128", "httpProxy": "http://127.0.0.1:3128"}}},
         note="the daemon's own direct connection fails; the text cannot show that a proxy was configured for the "
              "client only, the advice names the daemon's proxy settings"),
    Case("client-only-proxy-login", "docker login with the proxy in ~/.docker/config.json only",
         "egress.lab.test", None, "TCP_HOST_UNREACHABLE", clients=("dockerd",), docker_verb="login",
         docker_config={"proxies": {"default": {"httpsProxy": "http://127.0.0.1:3128"}}},
         note="as client-only-proxy, for `docker login`"),
)


#: A login (`--verb login`) asks for /v2/ and, with a token registry, a token: the faults of a repository,
#: a manifest or a blob never meet it, nor the cases made for one client's pull
_NO_LOGIN = frozenset({"token-private-anonymous-5601", "token-private-limited-5601", "acr403-manifest-5610",
                       "manifest-unknown-5441", "data-drop-5604", "data-refused-5605", "data-badtls-5606",
                       "data-403-5607", "data-nx-5608", "data-loop-5609", "api-backend-drop-5614",
                       "client-only-proxy", "client-only-proxy-login"})
#: a login sends a user and password (the case's, else `x:x`): a registry with accounts refuses a wrong one
_LOGIN_EXPECTED: dict[str, dict[str, tuple[str, tuple[str, ...], str]]] = {
    "auth-missing-5443": {"*": ("AUTH_BAD_CREDENTIALS", (), "the registry refuses the login's user and password")},
    # docker's pull shows the filter's HTML page; its login only the status (`login attempt to … failed
    # with status: 403 Forbidden`, the seed article's ACR firewall text)
    "403-html-5453": {"dockerd": ("HTTP_FIREWALL_DENIED", ("HTTP_MIDDLEBOX_BLOCKED",),
                                  f"docker login reports the 403 without its page: {_NOT_TEXT}")},
}
#: A push uploads blobs and PUTs a manifest to the registry: a tag, a blob download or a data host are
#: never met, nor a registry that hands its API on (a 307 to a POST), nor the lab's manifest-only
#: firewall front (it answers an upload with 404, which is not its fault)
_NO_PUSH = frozenset({"manifest-unknown-5441", "acr403-manifest-5610", "data-drop-5604", "data-refused-5605",
                      "data-badtls-5606", "data-403-5607", "data-nx-5608", "data-loop-5609", "api-backend-drop-5614",
                      "client-only-proxy", "client-only-proxy-login"})
#: docker push prints a token service it cannot reach as a bare `dial tcp IP:port: i/o timeout` after its
#: `Retrying in N seconds` lines: no host, no registry in the line, so a log reader rightly skips it
_NO_PUSH_BY = frozenset({("dockerd", "token-realm-down-5602")})
_PUSH_DENIED = ("AUTH_PERMISSION_DENIED", ("AUTH_CREDENTIALS_REQUIRED",),
                f"a push refused with `denied` (no credentials were sent): {_NOT_TEXT}")
_PUSH_EXPECTED: dict[str, dict[str, tuple[str, tuple[str, ...], str]]] = {
    "token-private-anonymous-5601": {"*": _PUSH_DENIED},
    # the user may pull the repository, not push to it: that is the fault
    "token-private-limited-5601": {"*": ("AUTH_PERMISSION_DENIED", (), "the user has no push right on the repository")},
    "token-wrong-password-5601": {"dockerd": ("AUTH_CREDENTIALS_REQUIRED", ("AUTH_BAD_CREDENTIALS",),
                                              f"docker push prints the registry's `authentication required` only, "
                                              f"not that a stored password was sent: {_NOT_TEXT}")},
    "proxy-silent-3131": {"dockerd": ("TCP_TIMEOUT", ("PROXY_NOT_CONFIGURED",),
                                      f"a push's `context deadline exceeded` on /v2/: {_NOT_TEXT}")},
}
CASES = tuple(replace(c, login=c.name not in _NO_LOGIN, login_expected=_LOGIN_EXPECTED.get(c.name, {}),
                      push=c.name not in _NO_PUSH, push_expected=_PUSH_EXPECTED.get(c.name, {})) for c in CASES)


#: Clients this script drives. `docker` is the docker CLI alone (`docker manifest inspect`, no daemon);
#: `dockerd` is `docker pull` through a real Docker daemon, whose own environment carries the proxy.
CLIENTS = CLIENT_NAMES
_BIN = {"docker": "/usr/bin/docker", "podman": "/usr/bin/podman", "buildah": "/usr/bin/buildah", "ctr": "/usr/bin/ctr",
        "dockerd": "/usr/sbin/dockerd"}
_CONTAINERS_CONF = '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n'


class Runner:
    """Runs one client for one case in the lab's client namespace and returns the raw result.

    podman, buildah and skopeo pull in their own process (containers/image), ctr too (containerd's
    resolver runs in the client; containerd only stores the content); dockerd pulls in the daemon, so a
    case's proxy environment is given to the daemon (one daemon per environment, as systemd would
    start it from a drop-in), and `docker pull` talks to it. Each process trusts the lab CA through
    SSL_CERT_FILE (Go reads it for its roots), so the TLS faults are the only trust problem.
    """

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.work = lab.dir / "clients"
        self.work.mkdir(exist_ok=True)
        # podman refuses a runroot path longer than 50 characters: a short directory of our own
        self.short = Path(tempfile.mkdtemp(prefix="rdc-", dir="/tmp"))
        (lab.dir / "containers" / "containers.conf").write_text(_CONTAINERS_CONF)
        self._nodes: dict[str | None, Any] = {}
        self._containerd: Any = None

    def available(self) -> list[str]:
        from lab.daemons import missing

        have = ["skopeo"] + [c for c in ("docker", "podman", "buildah") if os.path.exists(_BIN[c])]
        if not missing():
            have += ["ctr", "dockerd"]
        return have

    def version(self, client: str) -> str:
        if client == "skopeo":
            return str(self.lab.skopeo("--version", timeout=30).stdout).strip()
        exe = {"dockerd": _BIN["dockerd"], "ctr": _BIN["ctr"]}.get(client, _BIN.get(client, client))
        return str(self.lab.client([exe, "--version"], timeout=30).stdout).strip()

    # ---------------------------------------------------------------- daemons

    def node(self, resolv: str | None) -> Any:
        """The fake node whose /etc/resolv.conf is the case's (daemons and ctr run in it)."""
        from lab.daemons import Node

        if resolv not in self._nodes:
            path = None if resolv is None else self.lab._custom_resolv(resolv)
            self._nodes[resolv] = Node(self.lab, name=f"node{len(self._nodes)}", resolv=path)
        return self._nodes[resolv]

    def containerd(self) -> str:
        if self._containerd is None:
            self._containerd = self.node(None).start_containerd(env={"SSL_CERT_FILE": str(self.lab.ca_file)})
        return str(self._containerd.socket)

    def start_dockerd(self, case: Case, index: int) -> tuple[Any, Any]:
        node = self.node(case.resolv)
        env = {**case.env, "SSL_CERT_FILE": str(self.lab.ca_file)}
        return node, node.start_dockerd(env=env, name=f"dockerd{index}")

    def close(self) -> None:
        for node in self._nodes.values():
            node.close()
        shutil.rmtree(self.short, ignore_errors=True)

    # ---------------------------------------------------------------- one run

    def _store(self, client: str, case: Case, verb: str = "pull") -> list[str]:
        """podman's or buildah's storage for one run: a root of its own, a runroot under the short dir."""
        name = case.name if verb == "pull" else f"{verb}-{case.name}"
        runroot = self.short / f"{'' if verb == 'pull' else verb[0]}{client[0]}{CASES.index(case)}"
        return ["--root", str(self.work / f"{client}-{name}" / "root"), "--runroot", str(runroot),
                "--storage-driver", "vfs"]

    def _containers_env(self, case: Case) -> dict[str, str]:
        """The environment of podman, buildah (and skopeo's config): the lab's containers files, its CA."""
        return {**self.lab.skopeo_env(), "CONTAINERS_CONF": str(self.lab.dir / "containers" / "containers.conf"),
                "SSL_CERT_FILE": str(self.lab.ca_file), **case.env}

    def _containers_args(self, client: str, case: Case) -> tuple[list[str], dict[str, str]]:
        args = [*self._store(client, case), "pull",
                "--signature-policy", str(self.lab.dir / "containers" / "policy.json"),
                "--cert-dir", str(self.lab.ca_dir)]
        if case.creds:
            args += ["--creds", case.creds]
        return [*args, case.ref()], self._containers_env(case)

    def run(self, client: str, case: Case, dockerd: Any = None, verb: str = "pull"
            ) -> tuple[list[str], dict[str, str], Any]:
        ref = case.ref()
        limit = float(case.timeout.rstrip("s")) + 30
        if verb == "login" and client != "dockerd":
            return self._login(client, case)
        if verb == "push":
            return self._push(client, case, dockerd)
        if client == "skopeo":
            args = ["inspect", "--command-timeout", case.timeout, "--cert-dir", str(self.lab.ca_dir)]
            if case.creds:
                args += ["--creds", case.creds]
            args.append(f"docker://{ref}")
            res = self.lab.skopeo(*args, env=case.env, resolv=case.resolv, timeout=limit)
            return ["skopeo", *args], dict(case.env), res
        if client in ("podman", "buildah"):
            args, env = self._containers_args(client, case)
            # containers/image retries a failed pull three times with backoff: a dropped host costs minutes
            res = self.lab.client([_BIN[client], *args], env=env, resolv=case.resolv, timeout=400)
            return [client, *args], _shown(env, case), res
        if client == "ctr":
            node = self.node(case.resolv)
            args = ["--address", self.containerd(), "images", "pull"]
            if case.creds:
                args += ["--user", case.creds]
            env = {**case.env, "SSL_CERT_FILE": str(self.lab.ca_file)}
            res = node.run([_BIN["ctr"], *args, ref], env=env, timeout=400)
            return ["ctr", *args, ref], env, res
        if client == "dockerd":
            node, daemon = dockerd
            config = self.work / f"dockerd-{case.name}"
            config.mkdir(exist_ok=True)
            if case.docker_config is not None:
                (config / "config.json").write_text(json.dumps(case.docker_config))
            argv = ["/usr/bin/docker", "-H", f"unix://{daemon.socket}", *case.docker_args(ref, verb)]
            res = node.run(argv, env={"DOCKER_CONFIG": str(config)}, timeout=400)
            return ["docker", *argv[3:]], {"dockerd": json.dumps({**case.env, "SSL_CERT_FILE": "$LAB/pki/ca.crt"}),
                                           "DOCKER_CONFIG": str(config)}, res
        # the docker CLI alone
        env = dict(case.env)
        env["SSL_CERT_FILE"] = str(self.lab.ca_file)
        env["DOCKER_CONFIG"] = str(self.lab.dir / "home" / ".docker")
        argv = [_BIN["docker"], "manifest", "inspect", ref]
        res = self.lab.client(argv, env=env, resolv=case.resolv, timeout=limit)
        return ["docker", *argv[1:]], env, res


    def _login(self, client: str, case: Case) -> tuple[list[str], dict[str, str], Any]:
        """skopeo/podman/buildah `login` to the case's registry, with its user and password (else x:x)."""
        host = case.ref().split("/", 1)[0]
        user, _, password = (case.creds or "x:x").partition(":")
        login = ["login", "--cert-dir", str(self.lab.ca_dir), "-u", user, "-p", password, host]
        if client == "skopeo":
            res = self.lab.skopeo("--command-timeout", "60s", *login, env=case.env, resolv=case.resolv, timeout=400)
            return ["skopeo", *login], dict(case.env), res
        args, env = [*self._store(client, case, "login"), *login], self._containers_env(case)
        res = self.lab.client([_BIN[client], *args], env=env, resolv=case.resolv, timeout=400)
        return [client, *args], _shown(env, case), res


    def layout(self) -> Path:
        """An OCI layout of the lab's image (pulled once from its healthy registry): what a push sends."""
        oci = self.work / "push-src"
        if not (oci / "index.json").exists():
            res = self.lab.skopeo("copy", "--src-cert-dir", str(self.lab.ca_dir),
                                  f"docker://{R}:5441/lab/hello:latest", f"oci:{oci}:latest", timeout=120)
            if res.returncode != 0:
                raise RuntimeError(f"cannot make the push source: {res.stderr.strip()}")
            archive = f"docker-archive:{self.work / 'push-src.tar'}:lab/hello:latest"
            res = self.lab.skopeo("copy", f"oci:{oci}:latest", archive, timeout=120)
            if res.returncode != 0:
                raise RuntimeError(f"cannot make the push archive: {res.stderr.strip()}")
        return oci

    def _push(self, client: str, case: Case, dockerd: Any) -> tuple[list[str], dict[str, str], Any]:
        """Push the lab's image to the case's registry (repository of the case, tag `pushed`)."""
        oci, dest = self.layout(), f"{case.ref().rsplit(':', 1)[0]}:pushed"
        if client == "skopeo":
            args = ["copy", "--command-timeout", "60s", "--dest-cert-dir", str(self.lab.ca_dir)]
            if case.creds:
                args += ["--dest-creds", case.creds]
            args += [f"oci:{oci}:latest", f"docker://{dest}"]
            res = self.lab.skopeo(*args, env=case.env, resolv=case.resolv, timeout=400)
            return ["skopeo", *args], dict(case.env), res
        if client in ("podman", "buildah"):
            store, env = self._store(client, case, "push"), self._containers_env(case)
            # the image comes from the layout on disk, no network: its ID is the pull's last line
            loaded = self.lab.client([_BIN[client], *store, "pull", "--signature-policy",
                                      str(self.lab.dir / "containers" / "policy.json"), f"oci:{oci}:latest"],
                                     env={k: v for k, v in env.items() if k not in case.env}, timeout=120)
            image = loaded.stdout.strip().splitlines()[-1] if loaded.returncode == 0 and loaded.stdout.strip() else ""
            if not image:
                raise RuntimeError(f"{client} cannot load the push source: {loaded.stderr.strip()}")
            args = [*store, "push", "--cert-dir", str(self.lab.ca_dir), "--signature-policy",
                    str(self.lab.dir / "containers" / "policy.json")]
            if case.creds:
                args += ["--creds", case.creds]
            args += [image, f"docker://{dest}"]
            res = self.lab.client([_BIN[client], *args], env=env, resolv=case.resolv, timeout=400)
            return [client, *args], _shown(env, case), res
        node, daemon = dockerd
        docker = ["/usr/bin/docker", "-H", f"unix://{daemon.socket}"]
        config = self.work / f"dockerd-push-{case.name}"
        config.mkdir(exist_ok=True)
        if case.creds:  # the credential docker login would have stored
            auth = base64.b64encode(case.creds.encode()).decode()
            (config / "config.json").write_text(json.dumps({"auths": {dest.split("/", 1)[0]: {"auth": auth}}}))
        env = {"DOCKER_CONFIG": str(config)}
        for step in (["load", "-i", str(self.work / "push-src.tar")], ["tag", "lab/hello:latest", dest]):
            done = node.run([*docker, *step], env=env, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"docker {step[0]}: {done.stderr.strip()}")
        res = node.run([*docker, "push", dest], env=env, timeout=400)
        return ["docker", "push", dest], {"dockerd": json.dumps({**case.env, "SSL_CERT_FILE": "$LAB/pki/ca.crt"}),
                                          "DOCKER_CONFIG": str(config)}, res


def _shown(env: dict[str, str], case: Case) -> dict[str, str]:
    """What a fixture records of a run's environment: the case's own variables and the CA."""
    return {k: v for k, v in env.items() if k in case.env or k == "SSL_CERT_FILE"}


def _sanitize(value: str, lab_dir: str, short: str = "/nonexistent") -> str:
    return value.replace(lab_dir, "$LAB").replace(short, "$RUN")


def capture(lab: Any, clients: list[str], cases: tuple[Case, ...], verb: str = "pull") -> list[dict[str, Any]]:
    runner = Runner(lab)
    try:
        return _capture(runner, lab, clients, cases, verb)
    finally:
        runner.close()


def _capture(runner: Runner, lab: Any, clients: list[str], cases: tuple[Case, ...], verb: str
             ) -> list[dict[str, Any]]:
    versions = {c: runner.version(c) for c in clients}
    if verb == "login":
        jobs = [(client, case) for client in clients for case in cases if client in LOGIN_CLIENTS and case.login]
    elif verb == "push":
        runner.layout()  # made once, before the clients run side by side
        jobs = [(client, case) for client in clients for case in cases
                if client in PUSH_CLIENTS and case.push and (client, case.name) not in _NO_PUSH_BY]
    else:
        jobs = [(client, case) for client in clients for case in cases if client in case.clients]

    def record(client: str, case: Case, dockerd: Any = None) -> dict[str, Any]:
        try:
            argv, env, res = runner.run(client, case, dockerd, verb)
        except subprocess.TimeoutExpired:
            return {"client": client, "case": case.name, "error": "timed out"}
        except RuntimeError as exc:  # the push source could not be set up for this client
            return {"client": client, "case": case.name, "error": str(exc)[:300]}
        lab_dir, short = str(lab.dir), str(runner.short)
        expected, also, note = case.expectation(client, verb)
        return {
            "client": client,
            "client_version": versions[client],
            "case": case.name,
            **({"verb": verb} if verb != "pull" else {}),
            "fault": case.fault,
            "argv": [_sanitize(a, lab_dir, short) for a in argv],
            "env": {k: _sanitize(v, lab_dir, short) for k, v in env.items()},
            "resolv": case.resolv,
            "exit_code": res.returncode,
            "stdout": _sanitize(res.stdout, lab_dir, short),
            "stderr": _sanitize(res.stderr, lab_dir, short),
            "expected_code": expected,
            "also": list(also),
            "note": note,
        }

    out: list[dict[str, Any]] = []
    direct = [(c, k) for c, k in jobs if c != "dockerd"]
    with ThreadPoolExecutor(max_workers=12) as pool:
        out += list(pool.map(lambda job: record(*job), direct))
    # dockerd: one daemon per (environment, resolver), as systemd would start it from its drop-in
    groups: dict[tuple[tuple[tuple[str, str], ...], str | None], list[Case]] = {}
    for client, case in jobs:
        if client == "dockerd":
            groups.setdefault((tuple(sorted(case.env.items())), case.resolv), []).append(case)
    for index, group in enumerate(groups.values()):
        node, daemon = runner.start_dockerd(group[0], index)
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                out += list(pool.map(record, ["dockerd"] * len(group), group, [(node, daemon)] * len(group)))
        finally:
            node.stop(daemon)
    return out


def judge(record: dict[str, Any]) -> tuple[bool, str]:
    from regdoctor.explain import explain

    ex = explain(record["stderr"] + record["stdout"])
    ranked = [f.code for f in ex.findings]
    if not ranked:
        return False, "no known symptom"
    ok = ranked[0] == record["expected_code"] and all(a in ranked for a in record["also"])
    return ok, f"top {ranked[0]} ({ex.findings[0].confidence:.2f}); ranked {ranked[:5]}"


def relabel() -> int:
    """Apply the expectations of CASES to the stored captures (their outputs stay as captured)."""
    by_name = {c.name: c for c in CASES}
    failures = 0
    for path in sorted(FIXTURES.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        case = by_name.get(rec["case"])
        if case is None:
            print(f"{path.name}: no such case any more", file=sys.stderr)
            failures += 1
            continue
        expected, also, note = case.expectation(rec["client"], rec.get("verb", "pull"))
        rec.update(expected_code=expected, also=list(also), note=note)
        path.write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        ok, detail = judge(rec)
        failures += not ok
        if not ok:
            print(f"{rec['client']:7} {rec['case']:32} FAIL expect {expected}: {detail}")
    print(f"{len(list(FIXTURES.glob('*.json')))} fixtures relabelled, {failures} not explained as expected")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", default="", help=f"comma-separated of {','.join(CLIENT_NAMES)} (default: installed)")
    ap.add_argument("--only", nargs="*", default=[], help="case names")
    ap.add_argument("--check", action="store_true", help="capture and explain, write nothing")
    ap.add_argument("--verb", choices=("pull", "login", "push"), default="pull",
                    help="what each client does: pull the case's image (default), log in to its registry, "
                         "or push the lab's image to it")
    ap.add_argument("--relabel", action="store_true",
                    help="no lab: rewrite expected_code/also/note of the stored fixtures from CASES, then judge them")
    args = ap.parse_args()
    if args.relabel:
        return relabel()

    from lab.lab import Lab, missing_prerequisites

    problems = missing_prerequisites()
    if problems:
        print("fault lab unavailable: " + "; ".join(problems), file=sys.stderr)
        return 2
    cases = tuple(c for c in CASES if not args.only or c.name in args.only)
    with Lab() as lab:
        have = Runner(lab).available()
        clients = [c for c in (args.client.split(",") if args.client else have) if c]
        missing = [c for c in clients if c not in have]
        if missing:
            print(f"not installed: {', '.join(missing)}", file=sys.stderr)
            clients = [c for c in clients if c not in missing]
        records = capture(lab, clients, cases, args.verb)
    failures = 0
    for rec in records:
        if "error" in rec:
            print(f"{rec['client']:7} {rec['case']:32} ERROR {rec['error']}")
            failures += 1
            continue
        if rec["exit_code"] == 0:
            # the fault did not show with this client (e.g. docker treats it differently): no fixture
            print(f"{rec['client']:7} {rec['case']:32} skipped: the client succeeded")
            continue
        ok, detail = judge(rec)
        failures += not ok
        print(f"{rec['client']:7} {rec['case']:32} {'ok  ' if ok else 'FAIL'} expect {rec['expected_code']}: {detail}")
        if not args.check:
            FIXTURES.mkdir(parents=True, exist_ok=True)
            verb = f"-{rec['verb']}" if "verb" in rec else ""
            path = FIXTURES / f"{rec['client']}{verb}-{rec['case']}.json"
            path.write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(records)} captures, {failures} not explained as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
