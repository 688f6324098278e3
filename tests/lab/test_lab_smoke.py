"""Smoke tests proving the fault lab is real: each fault, seen by a real client (skopeo) or a raw socket.

Expected skopeo texts are those of skopeo 1.9.3 / Go 1.19 (fault-lab.md §5), matched on stable fragments.
The slow cases run concurrently (module-scoped fixtures), so the suite takes a few seconds.

This file doubles as the probe script run inside the client netns:
    python test_lab_smoke.py sockets|dns|getaddrinfo|pull JSON
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlencode, urlsplit

import pytest

if TYPE_CHECKING:
    from lab.lab import Lab

pytestmark = pytest.mark.lab

S = "10.200.0.1"
CLIENT_IP = "10.200.0.2"
ACR_MSG = f"client with IP '{CLIENT_IP}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."


# ---------------------------------------------------------------------- probes (run inside the client netns)


def probe_socket(spec: dict[str, Any]) -> dict[str, Any]:
    """Connect (optionally TLS, verified), optionally send, read until EOF / reset / timeout / limit."""
    res: dict[str, Any] = {"connect": None, "handshake": None, "data": "", "end": None}
    try:
        sock = socket.create_connection((spec["host"], spec["port"]), timeout=spec.get("connect_timeout", 2.0))
    except TimeoutError:
        res["connect"] = "timeout"
        return res
    except OSError as exc:
        res["connect"] = errno.errorcode.get(exc.errno or 0, str(exc))
        return res
    res["connect"] = "ok"
    sock.settimeout(spec.get("read_timeout", 2.0))
    try:
        if spec.get("tls"):
            ctx = ssl.create_default_context(cafile=spec["ca"])
            try:
                sock = ctx.wrap_socket(sock, server_hostname=spec.get("sni", "registry.lab.test"))
            except (OSError, ssl.SSLError) as exc:
                res["handshake"] = repr(exc)
                return res
            res["handshake"] = "ok"
        data = b""
        try:
            if spec.get("send"):
                sock.sendall(spec["send"].encode())
            while len(data) < spec.get("max_bytes", 1 << 20):
                chunk = sock.recv(65536)
                if not chunk:
                    res["end"] = "eof"
                    break
                data += chunk
            else:
                res["end"] = "limit"
        except TimeoutError:
            res["end"] = "timeout"
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            res["end"] = "eof"  # closed without close_notify: what an HTTP client sees as EOF
        except (ConnectionResetError, BrokenPipeError):
            res["end"] = "reset"
        res["data"] = data.decode("latin-1")
    finally:
        sock.close()
    return res


def probe_dns(name: str, rdtype: str) -> dict[str, Any]:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode

    try:
        reply = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", timeout=1.5)
    except dns.exception.Timeout:
        return {"rcode": "TIMEOUT", "answer": []}
    lines = [line for rrset in reply.answer for line in rrset.to_text().splitlines()]
    return {"rcode": dns.rcode.to_text(reply.rcode()), "answer": [" ".join(line.split()) for line in lines]}


def probe_getaddrinfo(name: str) -> list[str] | str:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)})
    except socket.gaierror as exc:
        return f"gaierror {exc.errno}"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"cert: {exc.verify_message}"
    if isinstance(exc, socket.gaierror):
        return f"gaierror {exc.errno}"
    if isinstance(exc, OSError) and exc.errno:
        return errno.errorcode.get(exc.errno, str(exc))
    return repr(exc)


def probe_http(url: str, ca: str, headers: dict[str, str] | None = None, timeout: float = 2.0) -> dict[str, Any]:
    """One HTTPS GET through the lab resolver; redirects are reported, never followed."""
    u = urlsplit(url)
    conn = http.client.HTTPSConnection(
        u.hostname or "", u.port or 443, context=ssl.create_default_context(cafile=ca), timeout=timeout
    )
    try:
        conn.request(
            "GET", u.path + (f"?{u.query}" if u.query else ""), headers={"Connection": "close", **(headers or {})}
        )
        resp = conn.getresponse()
        body = resp.read()
    except Exception as exc:
        return {"url": url, "error": _error_text(exc)}
    finally:
        conn.close()
    return {
        "url": url,
        "status": resp.status,
        "headers": {k.lower(): v for k, v in resp.getheaders()},
        "body": body.decode("latin-1") if len(body) <= 4096 else "",
        "sha256": "sha256:" + hashlib.sha256(body).hexdigest(),
        "length": len(body),
    }


def probe_pull(spec: dict[str, Any]) -> dict[str, Any]:
    """The pull path by hand: /v2/ challenge -> token from its realm -> blob GET (307) -> the Location.

    Like a real client, the data-host request carries the Range header but no Authorization.
    """
    ca, base = spec["ca"], f"https://{spec['registry']}"
    out: dict[str, Any] = {"challenge": probe_http(f"{base}/v2/", ca)}
    challenge = out["challenge"].get("headers", {}).get("www-authenticate", "")
    params = dict(part.split("=", 1) for part in challenge.removeprefix("Bearer ").split(","))
    realm, service = (params.get(k, "").strip('"') for k in ("realm", "service"))
    query = urlencode([("service", service), *(("scope", s) for s in spec["scopes"])])
    auth = {"Authorization": "Basic " + base64.b64encode(spec["creds"].encode()).decode()} if spec.get("creds") else {}
    out["token"] = probe_http(f"{realm}?{query}", ca, auth)
    if out["token"].get("status") != 200 or "blob" not in spec:
        return out
    token_body = json.loads(out["token"]["body"])
    bearer = token_body.get("token") or token_body["access_token"]  # ACR's /oauth2/token sends access_token only
    for name, path in spec.get("gets", {}).items():  # e.g. manifests and tag lists, with the token
        out[name] = probe_http(f"{base}{path}", ca, {"Authorization": f"Bearer {bearer}"})
    rng = {"Range": spec["range"]} if spec.get("range") else {}
    out["blob"] = probe_http(
        f"{base}/v2/{spec['repo']}/blobs/{spec['blob']}", ca, {"Authorization": f"Bearer {bearer}", **rng}
    )
    location = out["blob"].get("headers", {}).get("location")
    if location:
        out["data"] = probe_http(location, ca, rng, timeout=spec.get("data_timeout", 2.0))
    return out


def _probe_main(kind: str, specs: dict[str, Any]) -> None:
    results: dict[str, Any] = {}

    def run(key: str, spec: Any) -> None:
        if kind == "sockets":
            results[key] = probe_socket(spec)
        elif kind == "dns":
            results[key] = probe_dns(*spec)
        elif kind == "pull":
            results[key] = probe_pull(spec) if "registry" in spec else probe_http(**spec)
        else:
            results[key] = probe_getaddrinfo(spec)

    threads = [threading.Thread(target=run, args=item) for item in specs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results))


def in_client(lab: Lab, kind: str, specs: dict[str, Any]) -> dict[str, Any]:
    res = lab.client([sys.executable, str(Path(__file__).resolve()), kind, json.dumps(specs)], timeout=30)
    assert res.returncode == 0, res.stderr
    results: dict[str, Any] = json.loads(res.stdout)
    return results


def parse_http(raw: str) -> tuple[int, dict[str, str], str]:
    head, _, body = raw.partition("\r\n\r\n")
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


# ---------------------------------------------------------------------- topology


def test_client_has_no_default_route(lab: Lab) -> None:
    def ip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "-n", lab.client_ns, *args], capture_output=True, text=True, check=False)

    assert ip("route", "show", "default").stdout.strip() == ""
    assert "Network is unreachable" in ip("route", "get", "192.0.2.1").stderr  # TEST-NET-1: no packet sent
    assert "dev veth-c" in ip("route", "get", "10.200.0.99").stdout  # on-link: ARP will fail
    assert "dev veth-c" in ip("route", "get", "20.50.60.70").stdout  # the one host route


def test_client_env_is_clean(lab: Lab) -> None:
    res = lab.client(["sh", "-c", "env; cat /etc/resolv.conf"], env={"EXTRA": "1"})
    assert res.returncode == 0
    assert f"HOME={lab.dir}/home" in res.stdout
    assert "EXTRA=1" in res.stdout
    assert "_proxy=" not in res.stdout.lower()
    assert "nameserver 127.0.0.1" in res.stdout
    custom = lab.client(["cat", "/etc/resolv.conf"], resolv="nameserver 127.0.0.9")
    assert custom.stdout.strip() == "nameserver 127.0.0.9"


# ---------------------------------------------------------------------- skopeo against every fault


def ref(host: str, port: int | None = None, repo: str = "lab/hello") -> str:
    return f"docker://{host}{f':{port}' if port else ''}/{repo}:latest"


def blob_url(host: str) -> str:
    """The start of the Location distribution's redirect middleware emits (then <2 hex>/<64 hex>/data)."""
    return f'Get \\"https://{host}/docker/registry/v2/blobs/sha256/'


R = "registry.lab.test"


# name -> (extra skopeo args, env, fragments expected in stderr (a tuple: any one of them); None = must succeed)
SKOPEO_CASES: dict[str, tuple[list[str], dict[str, str], list[str | tuple[str, ...]] | None]] = {
    "healthy-5441": ([ref("registry.lab.test", 5441)], {}, None),
    "auth-missing-5443": (
        [ref("registry.lab.test", 5443)],
        {},
        ["reading manifest latest in registry.lab.test:5443/lab/hello: unauthorized: authentication required"],
    ),
    "auth-ok-5443": (["--creds", "labuser:labpass", ref("registry.lab.test", 5443)], {}, None),
    "auth-wrong-5443": (["--creds", "labuser:nope", ref("registry.lab.test", 5443)], {}, ["unauthorized"]),
    "expired-5444": (
        [ref("registry.lab.test", 5444)],
        {},
        ["x509: certificate has expired or is not yet valid", "is after 2020-01-02T00:00:00Z"],
    ),
    "notyet-5445": (
        [ref("registry.lab.test", 5445)],
        {},
        ["x509: certificate has expired or is not yet valid", "is before 2099-01-01T00:00:00Z"],
    ),
    "rogue-ca-5446": ([ref("registry.lab.test", 5446)], {}, ["x509: certificate signed by unknown authority"]),
    "wrong-name-5447": (
        [ref("registry.lab.test", 5447)],
        {},
        ["x509: certificate is valid for wrong.lab.test, not registry.lab.test"],
    ),
    "self-signed-5448": ([ref("registry.lab.test", 5448)], {}, ["x509: certificate signed by unknown authority"]),
    "inspection-untrusted-5440": (
        [ref("labreg.azurecr.io", 5440)],
        {},
        ["x509: certificate signed by unknown authority"],
    ),
    "privatelink-healthy-5441": ([ref("labreg.azurecr.io", 5441)], {}, None),
    "privatelink-broken-443": (
        [ref("brokenreg.azurecr.io")],
        {},
        ["pinging container registry brokenreg.azurecr.io: invalid status code from registry 403 (Forbidden)"],
    ),
    "refused-5449": ([ref("registry.lab.test", 5449)], {}, ["dial tcp 10.200.0.1:5449: connect: connection refused"]),
    "no-route-8443": ([ref("registry.lab.test", 8443)], {}, ["dial tcp 10.200.0.1:8443: connect: no route to host"]),
    "net-unreachable-8445": (
        [ref("registry.lab.test", 8445)],
        {},
        ["dial tcp 10.200.0.1:8445: connect: network is unreachable"],
    ),
    "drop-5455": (
        ["--command-timeout", "3s", ref("registry.lab.test", 5455)],
        {},
        # Go races the dial's own deadline error against the request context: either text appears.
        [
            "pinging container registry registry.lab.test:5455",
            ("dial tcp 10.200.0.1:5455: i/o timeout", "context deadline exceeded"),
        ],
    ),
    "http-registry-https-client-5000": (
        [ref("registry.lab.test", 5000)],
        {},
        ["http: server gave HTTP response to HTTPS client"],
    ),
    "acr403-5450": ([ref("registry.lab.test", 5450)], {}, ["invalid status code from registry 403 (Forbidden)"]),
    "502-html-5452": ([ref("registry.lab.test", 5452)], {}, ["invalid status code from registry 502 (Bad Gateway)"]),
    "reset-5458": (
        [ref("registry.lab.test", 5458)],
        {},
        ["read tcp 10.200.0.2:", "->10.200.0.1:5458: read: connection reset by peer"],
    ),
    "readclose-5457": ([ref("registry.lab.test", 5457)], {}, ['Get \\"https://registry.lab.test:5457/v2/\\": EOF']),
    "tls-close-5460": ([ref("registry.lab.test", 5460)], {}, ['Get \\"https://registry.lab.test:5460/v2/\\": EOF']),
    "garbage-8450": ([ref("registry.lab.test", 8450)], {}, ['malformed HTTP response \\"SSH-2.0-OpenSSH_9.2\\"']),
    "endless-headers-8451": ([ref("registry.lab.test", 8451)], {}, ["server response headers exceeded 10485760 bytes"]),
    "dns-nxdomain": ([ref("nx.lab.test", 5441)], {}, ["dial tcp: lookup nx.lab.test on 127.0.0.1:53: no such host"]),
    "dns-nodata": (
        [ref("nodata.lab.test", 5441)],
        {},
        ["dial tcp: lookup nodata.lab.test on 127.0.0.1:53: no such host"],
    ),
    "dns-servfail": (
        [ref("servfail.lab.test", 5441)],
        {},
        ["dial tcp: lookup servfail.lab.test on 127.0.0.1:53: server misbehaving"],
    ),
    "dns-refused": ([ref("x.azurecr.io")], {}, ["dial tcp: lookup x.azurecr.io on 127.0.0.1:53: server misbehaving"]),
    "dns-timeout": (
        [ref("dnstimeout.lab.test", 5441)],
        {},
        ["dial tcp: lookup dnstimeout.lab.test on 127.0.0.1:53: read udp", "i/o timeout"],
    ),
    "proxy-open-5441": ([ref("registry.lab.test", 5441)], {"HTTPS_PROXY": "http://127.0.0.1:3128"}, None),
    "proxy-blocked": (
        [ref("blocked.lab.test", 5441)],
        {"HTTPS_PROXY": "http://127.0.0.1:3128"},
        ['Get \\"https://blocked.lab.test:5441/v2/\\": Forbidden'],
    ),
    "proxy-upstream-refused": (
        [ref("registry.lab.test", 5449)],
        {"HTTPS_PROXY": "http://127.0.0.1:3128"},
        ["Service Unavailable"],
    ),
    "proxy-auth-missing": (
        [ref("registry.lab.test", 5441)],
        {"HTTPS_PROXY": "http://127.0.0.1:3132"},
        ["Proxy Authentication Required"],
    ),
    "proxy-auth-ok": (
        [ref("registry.lab.test", 5441)],
        {"HTTPS_PROXY": "http://labproxy:proxypass@127.0.0.1:3132"},
        None,
    ),
    "proxy-down-3129": (
        [ref("registry.lab.test", 5441)],
        {"HTTPS_PROXY": "http://127.0.0.1:3129"},
        ["proxyconnect tcp: dial tcp 127.0.0.1:3129: connect: connection refused"],
    ),
    "proxy-readclose-3130": (
        [ref("registry.lab.test", 5441)],
        {"HTTPS_PROXY": "http://127.0.0.1:3130"},
        ["unexpected EOF"],
    ),
    "proxy-silent-3131": (
        ["--command-timeout", "3s", ref("registry.lab.test", 5441)],
        {"HTTPS_PROXY": "http://127.0.0.1:3131"},
        ["context deadline exceeded"],
    ),
    # The pull path past GET /v2/: real token auth (the registry verifies the lab token service's JWTs),
    # then `inspect` fetches the config blob, which the registry 307-redirects to a data host.
    "token-creds-5601": (["--creds", "labuser:labpass", ref(R, 5601)], {}, None),
    "token-anonymous-5601": ([ref(R, 5601)], {}, None),
    "token-limited-5601": (["--creds", "limited:limitedpass", ref(R, 5601)], {}, None),
    "token-private-creds-5601": (["--creds", "labuser:labpass", ref(R, 5601, "lab/private")], {}, None),
    "token-private-anonymous-5601": (
        [ref(R, 5601, "lab/private")],
        {},
        [
            "reading manifest latest in registry.lab.test:5601/lab/private: errors:",
            "denied: requested access to the resource is denied",
            "unauthorized: authentication required",
        ],
    ),
    "token-private-limited-5601": (
        ["--creds", "limited:limitedpass", ref(R, 5601, "lab/private")],
        {},
        ["reading manifest latest in registry.lab.test:5601/lab/private:", "denied: requested access"],
    ),
    "token-wrong-password-5601": (
        ["--creds", "labuser:nope", ref(R, 5601)],
        {},
        [
            "unable to retrieve auth token: invalid username/password: unauthorized: authentication required,"
            " visit https://aka.ms/acr/authorization for more information."
        ],
    ),
    "token-realm-down-5602": (
        ["--command-timeout", "3s", ref(R, 5602)],
        {},
        [
            'Get \\"https://auth-down.lab.test:5600/token?scope=repository%3Alab%2Fhello%3Apull'
            '&service=registry.lab.test\\": ',
            ("context deadline exceeded", "dial tcp 10.200.0.11:5600: i/o timeout"),
        ],
    ),
    "token-throttled-5603": (
        [ref(R, 5603)],
        {},
        ['registry.lab.test:5603/lab/hello:latest\\": too many requests to registry'],
    ),
    "data-drop-5604": (
        ["--command-timeout", "3s", ref(R, 5604)],
        {},
        [blob_url("data-drop.lab.test"), ("dial tcp 10.200.0.21:443: i/o timeout", "context deadline exceeded")],
    ),
    "data-refused-5605": (
        [ref(R, 5605)],
        {},
        [blob_url("data-refused.lab.test"), '/data\\": dial tcp 10.200.0.22:443: connect: connection refused'],
    ),
    "data-badtls-5606": (
        [ref(R, 5606)],
        {},
        [
            blob_url("data-badtls.lab.test"),
            '/data\\": x509: certificate has expired or is not yet valid:',
            "is after 2020-01-02T00:00:00Z",
        ],
    ),
    "data-403-5607": (
        [ref(R, 5607)],
        {},
        ['msg="Error fetching blob: invalid status code from registry 403 (Forbidden)"'],
    ),
    "data-nx-5608": (
        [ref(R, 5608)],
        {},
        [blob_url("data-nx.lab.test"), '/data\\": dial tcp: lookup data-nx.lab.test on 127.0.0.1:53: no such host'],
    ),
    "data-loop-5609": ([ref(R, 5609)], {}, [blob_url("data-loop.lab.test"), '/data\\": stopped after 10 redirects']),
    "acr403-manifest-5610": (
        [ref(R, 5610)],
        {},
        [f"reading manifest latest in registry.lab.test:5610/lab/hello: denied: {ACR_MSG}"],
    ),
    # The ACR imitation: the token endpoint is the registry host itself, tokens are opaque, and the config
    # blob is fetched from the ACR-style data endpoint the registry redirects to.
    "acr-flow-5611": ([ref(R, 5611)], {}, None),
    "acr-flow-creds-5611": (["--creds", "labuser:labpass", ref(R, 5611)], {}, None),
    "acr-flow-wrong-password-5611": (
        ["--creds", "labuser:nope", ref(R, 5611)],
        {},
        [
            "unable to retrieve auth token: invalid username/password: unauthorized: authentication required,"
            " visit https://aka.ms/acr/authorization for more information."
        ],
    ),
}

# Multi-platform: (extra args) -> checked by test_skopeo_multi_platform.
MULTI_CASES: dict[str, list[str]] = {
    "multi-raw": ["--raw", ref(R, 5601, "lab/multi")],
    "multi-amd64": ["--override-arch", "amd64", ref(R, 5601, "lab/multi")],
    "multi-arm64": ["--override-arch", "arm64", ref(R, 5601, "lab/multi")],
}


SkopeoRuns = dict[str, tuple[subprocess.CompletedProcess[str], float]]


class Batches(TypedDict):
    skopeo: SkopeoRuns
    dns: dict[str, Any]
    sockets: dict[str, Any]
    pull: dict[str, Any]


def _run_skopeo_cases(lab: Lab) -> SkopeoRuns:
    cases = {name: (args, env) for name, (args, env, _) in SKOPEO_CASES.items()}
    cases |= {name: (args, {}) for name, args in MULTI_CASES.items()}

    def run(name: str) -> tuple[subprocess.CompletedProcess[str], float]:
        args, env = cases[name]
        has_timeout = "--command-timeout" in args
        t0 = time.monotonic()
        res = lab.skopeo(
            "inspect", *([] if has_timeout else ["--command-timeout", "10s"]), "--cert-dir", str(lab.ca_dir),
            *args, env=env, timeout=30,
        )  # fmt: skip
        return res, time.monotonic() - t0

    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        return dict(zip(cases, pool.map(run, cases), strict=True))


@pytest.fixture(scope="module")
def batches(lab: Lab) -> Batches:
    """All skopeo cases, DNS queries and socket probes, run concurrently: the slow ones (3 s deadlines,
    the ARP failure) overlap, so the whole module costs about as much as its slowest case."""
    sockets = {name: {"ca": str(lab.ca_file), **spec} for name, spec in SOCKET_CASES.items()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        skopeo = pool.submit(_run_skopeo_cases, lab)
        dns = pool.submit(in_client, lab, "dns", {name: case[0] for name, case in DNS_CASES.items()})
        socks = pool.submit(in_client, lab, "sockets", sockets)
        pull = pool.submit(in_client, lab, "pull", pull_specs(lab))
        return Batches(skopeo=skopeo.result(), dns=dns.result(), sockets=socks.result(), pull=pull.result())


@pytest.fixture(scope="module")
def skopeo_runs(batches: Batches) -> SkopeoRuns:
    return batches["skopeo"]


@pytest.mark.parametrize("case", list(SKOPEO_CASES))
def test_skopeo(case: str, lab: Lab, skopeo_runs: SkopeoRuns) -> None:
    res, _elapsed = skopeo_runs[case]
    expected = SKOPEO_CASES[case][2]
    if expected is None:
        assert res.returncode == 0, res.stderr
        info = json.loads(res.stdout)
        assert info["Digest"] == lab.manifest_digest
        assert lab.layer_digest in info["Layers"]
    else:
        assert res.returncode != 0, res.stdout
        for fragment in expected:
            alternatives = (fragment,) if isinstance(fragment, str) else fragment
            assert any(text in res.stderr for text in alternatives), (alternatives, res.stderr)


def test_skopeo_timeouts_are_bounded(skopeo_runs: SkopeoRuns) -> None:
    assert 2.5 < skopeo_runs["drop-5455"][1] < 8
    assert 1.5 < skopeo_runs["dns-timeout"][1] < 8  # timeout:1 attempts:1, A and AAAA


def test_squid_logs_the_tunnel(lab: Lab, skopeo_runs: dict[str, Any]) -> None:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        log = lab.squid_access_log.read_text()
        if "TCP_TUNNEL/200" in log and "CONNECT registry.lab.test:5441" in log:
            break
        time.sleep(0.1)
    assert "TCP_TUNNEL/200" in log and "CONNECT registry.lab.test:5441" in log, log
    assert "TCP_DENIED/403" in log and "CONNECT blocked.lab.test:5441" in log, log
    assert "TCP_DENIED/407" in log, log


def test_inspection_ca_makes_5440_trusted(lab: Lab, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(lab.inspection_ca_file.read_bytes())
    res = lab.skopeo("inspect", "--command-timeout", "10s", "--cert-dir", str(certs), ref("labreg.azurecr.io", 5440))
    assert res.returncode == 0, res.stderr
    issuer = subprocess.run(
        ["openssl", "x509", "-noout", "-issuer", "-in", str(lab.inspection_ca_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Contoso TLS Inspection CA" in issuer and "Contoso Secure Web Gateway" in issuer


# ---------------------------------------------------------------------- DNS


DNS_CASES: dict[str, tuple[tuple[str, str], str, list[str]]] = {
    "registry": (("registry.lab.test", "A"), "NOERROR", ["registry.lab.test. 0 IN A 10.200.0.1"]),
    "nx": (("nx.lab.test", "A"), "NXDOMAIN", []),
    "unknown-in-lab.test": (("other.lab.test", "A"), "NXDOMAIN", []),
    "servfail": (("servfail.lab.test", "A"), "SERVFAIL", []),
    "refused": (("x.azurecr.io", "A"), "REFUSED", []),
    "nodata": (("nodata.lab.test", "A"), "NOERROR", []),
    "nodata-txt": (("nodata.lab.test", "TXT"), "NOERROR", ['nodata.lab.test. 0 IN TXT "no address here"']),
    "timeout": (("dnstimeout.lab.test", "A"), "TIMEOUT", []),
    "blackhole": (("blackhole.lab.test", "A"), "NOERROR", ["blackhole.lab.test. 0 IN A 10.200.0.99"]),
    "loopback": (("loopback.lab.test", "A"), "NOERROR", ["loopback.lab.test. 0 IN A 127.0.0.1"]),
    "proxy": (("proxy.lab.test", "A"), "NOERROR", ["proxy.lab.test. 0 IN A 127.0.0.1"]),
    "auth": (("auth.lab.test", "A"), "NOERROR", ["auth.lab.test. 0 IN A 10.200.0.10"]),
    "auth-down": (("auth-down.lab.test", "A"), "NOERROR", ["auth-down.lab.test. 0 IN A 10.200.0.11"]),
    **{
        f"data-host-{name}": ((f"{name}.lab.test", "A"), "NOERROR", [f"{name}.lab.test. 0 IN A 10.200.0.{n}"])
        for name, n in (
            ("data", 20),
            ("data-drop", 21),
            ("data-refused", 22),
            ("data-badtls", 23),
            ("data-403", 24),
            ("data-loop", 25),
        )
    },
    "data-nx": (("data-nx.lab.test", "A"), "NXDOMAIN", []),
    "replica-westeurope": (
        ("pullreg.westeurope.data.azurecr.io", "A"),
        "NOERROR",
        ["pullreg.westeurope.data.azurecr.io. 0 IN A 10.200.0.20"],
    ),
    "replica-eastus": (
        ("pullreg.eastus.data.azurecr.io", "A"),
        "NOERROR",
        ["pullreg.eastus.data.azurecr.io. 0 IN A 10.200.0.21"],
    ),
    "privatelink-healthy": (
        ("labreg.azurecr.io", "A"),
        "NOERROR",
        [
            "labreg.azurecr.io. 0 IN CNAME labreg.privatelink.azurecr.io.",
            "labreg.privatelink.azurecr.io. 0 IN A 10.200.0.1",
        ],
    ),
    "privatelink-broken": (
        ("brokenreg.azurecr.io", "A"),
        "NOERROR",
        [
            "brokenreg.azurecr.io. 0 IN CNAME brokenreg.privatelink.azurecr.io.",
            "brokenreg.privatelink.azurecr.io. 0 IN CNAME brokenreg.westeurope.cloudapp.azure.com.",
            "brokenreg.westeurope.cloudapp.azure.com. 0 IN A 20.50.60.70",
        ],
    ),
}


@pytest.fixture(scope="module")
def dns_answers(batches: Batches) -> dict[str, Any]:
    return batches["dns"]


def _strip_ttl(line: str) -> str:
    name, _ttl, *rest = line.split()
    return " ".join([name, "0", *rest])


@pytest.mark.parametrize("case", list(DNS_CASES))
def test_dnsmasq(case: str, dns_answers: dict[str, Any]) -> None:
    _query, rcode, answer = DNS_CASES[case]
    got = dns_answers[case]
    assert got["rcode"] == rcode
    assert [_strip_ttl(line) for line in got["answer"]] == answer


def test_glibc_resolver_follows_the_lab(lab: Lab) -> None:
    got = in_client(
        lab, "getaddrinfo", {n: n for n in ("registry.lab.test", "labreg.azurecr.io", "brokenreg.azurecr.io")}
    )
    assert got == {
        "registry.lab.test": [S],
        "labreg.azurecr.io": [S],
        "brokenreg.azurecr.io": ["20.50.60.70"],
    }


# ---------------------------------------------------------------------- fronts and raw TCP faults


GET = "GET /v2/ HTTP/1.1\r\nHost: registry.lab.test\r\nUser-Agent: lab-smoke\r\n\r\n"
CONNECT = "CONNECT registry.lab.test:5441 HTTP/1.1\r\nHost: registry.lab.test:5441\r\n\r\n"


def _tls(port: int, **kw: Any) -> dict[str, Any]:
    return {"host": S, "port": port, "tls": True, "send": GET, **kw}


SOCKET_CASES: dict[str, dict[str, Any]] = {
    "registry-5000": {"host": S, "port": 5000, "send": GET},
    "registry-5441": _tls(5441),
    "registry-5443": _tls(5443),
    "acr403-5450": _tls(5450),
    "acr403-public-443": _tls(443, host="20.50.60.70", sni="brokenreg.azurecr.io"),
    "429-5451": _tls(5451),
    "502-html-5452": _tls(5452),
    "403-html-5453": _tls(5453),
    "503-json-5442": _tls(5442),
    "401-nochallenge-8452": _tls(8452),
    "notregistry-5459": _tls(5459),
    "hang-5454": {"host": S, "port": 5454, "send": GET, "read_timeout": 1.0},
    "tls-hang-5456": _tls(5456, read_timeout=1.0),
    "readclose-5457": {"host": S, "port": 5457, "send": GET},
    "reset-5458": {"host": S, "port": 5458, "send": GET},
    "tls-close-5460": _tls(5460),
    "garbage-8450": _tls(8450),
    "endless-headers-8451": _tls(8451, max_bytes=256 * 1024),
    "refused-5449": {"host": S, "port": 5449},
    "drop-5455": {"host": S, "port": 5455, "connect_timeout": 1.0},
    "icmp-host-unreachable-8443": {"host": S, "port": 8443},
    "icmp-no-route-8445": {"host": S, "port": 8445},
    "arp-blackhole": {"host": "10.200.0.99", "port": 5000, "connect_timeout": 10.0},
    "proxy-readclose-3130": {"host": "127.0.0.1", "port": 3130, "send": CONNECT},
    "proxy-hang-3131": {"host": "127.0.0.1", "port": 3131, "send": CONNECT, "read_timeout": 1.0},
    "proxy-closed-3129": {"host": "127.0.0.1", "port": 3129},
    "squid-open-3128": {"host": "127.0.0.1", "port": 3128, "send": CONNECT, "read_timeout": 1.0},
    # Pull-path hosts at the TCP level: the kernel RSTs on an address with no listener; nft drops two.
    "data-refused-443": {"host": "10.200.0.22", "port": 443},
    "data-drop-443": {"host": "10.200.0.21", "port": 443, "connect_timeout": 1.0},
    "auth-down-5600": {"host": "10.200.0.11", "port": 5600, "connect_timeout": 1.0},
    "auth-other-port": {"host": "10.200.0.10", "port": 443},  # only :5600 listens there
}


@pytest.fixture(scope="module")
def socket_results(batches: Batches) -> dict[str, Any]:
    return batches["sockets"]


def _http(result: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    assert result["connect"] == "ok" and result["handshake"] in (None, "ok"), result
    return parse_http(result["data"])


def test_registries_answer(socket_results: dict[str, Any]) -> None:
    for name in ("registry-5000", "registry-5441"):
        status, headers, _ = _http(socket_results[name])
        assert status == 200 and headers["docker-distribution-api-version"] == "registry/2.0", name
    status, headers, _ = _http(socket_results["registry-5443"])
    assert status == 401 and headers["www-authenticate"] == 'Basic realm="regdoctor-lab"'


@pytest.mark.parametrize("name", ["acr403-5450", "acr403-public-443"])
def test_front_acr403(name: str, socket_results: dict[str, Any]) -> None:
    status, headers, body = _http(socket_results[name])
    assert status == 403 and headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"errors": [{"code": "DENIED", "message": ACR_MSG}]}


def test_front_json_errors(socket_results: dict[str, Any]) -> None:
    status, headers, body = _http(socket_results["429-5451"])
    assert status == 429 and headers["retry-after"] == "1"
    assert json.loads(body)["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert "unauthenticated pull rate limit" in body
    status, _, body = _http(socket_results["503-json-5442"])
    assert status == 503 and json.loads(body) == {"errors": [{"code": "UNAVAILABLE", "message": "service unavailable"}]}
    status, headers, body = _http(socket_results["401-nochallenge-8452"])
    assert status == 401 and "www-authenticate" not in headers and json.loads(body)["errors"]


def test_front_html_pages(socket_results: dict[str, Any]) -> None:
    status, headers, body = _http(socket_results["502-html-5452"])
    assert status == 502 and headers["server"] == "lab-gateway" and headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in body
    status, headers, body = _http(socket_results["403-html-5453"])
    assert status == 403 and headers["via"] == "1.1 lab-webfilter"
    assert "<title>Access Denied - Web Filter</title>" in body
    status, headers, body = _http(socket_results["notregistry-5459"])
    assert status == 200 and "docker-distribution-api-version" not in headers
    assert "Welcome to nginx" in body


def test_front_misbehaviour(socket_results: dict[str, Any]) -> None:
    r = socket_results
    assert (r["hang-5454"]["end"], r["hang-5454"]["data"]) == ("timeout", "")
    assert (r["tls-hang-5456"]["handshake"], r["tls-hang-5456"]["end"]) == ("ok", "timeout")
    assert (r["readclose-5457"]["end"], r["readclose-5457"]["data"]) == ("eof", "")
    assert r["reset-5458"]["end"] == "reset", r["reset-5458"]
    assert (r["tls-close-5460"]["handshake"], r["tls-close-5460"]["end"], r["tls-close-5460"]["data"]) == (
        "ok",
        "eof",
        "",
    )
    assert (r["garbage-8450"]["data"], r["garbage-8450"]["end"]) == ("SSH-2.0-OpenSSH_9.2\r\n", "eof")
    endless = r["endless-headers-8451"]
    assert endless["end"] == "limit" and endless["data"].startswith("HTTP/1.1 200 OK\r\nX-Lab-Filler-0: ")
    assert "\r\n\r\n" not in endless["data"]


def test_tcp_faults(socket_results: dict[str, Any]) -> None:
    r = socket_results
    assert r["refused-5449"]["connect"] == "ECONNREFUSED"
    assert r["drop-5455"]["connect"] == "timeout"
    assert r["icmp-host-unreachable-8443"]["connect"] == "EHOSTUNREACH"
    assert r["icmp-no-route-8445"]["connect"] == "ENETUNREACH"
    assert r["arp-blackhole"]["connect"] == "EHOSTUNREACH"


def test_client_side_proxies(socket_results: dict[str, Any]) -> None:
    r = socket_results
    assert (r["proxy-readclose-3130"]["end"], r["proxy-readclose-3130"]["data"]) == ("eof", "")
    assert (r["proxy-hang-3131"]["end"], r["proxy-hang-3131"]["data"]) == ("timeout", "")
    assert r["proxy-closed-3129"]["connect"] == "ECONNREFUSED"
    assert r["squid-open-3128"]["data"].startswith("HTTP/1.1 200 Connection established")


def test_pull_path_tcp_faults(socket_results: dict[str, Any]) -> None:
    r = socket_results
    assert r["data-refused-443"]["connect"] == "ECONNREFUSED"
    assert r["auth-other-port"]["connect"] == "ECONNREFUSED"
    assert r["data-drop-443"]["connect"] == "timeout"
    assert r["auth-down-5600"]["connect"] == "timeout"


# ---------------------------------------------------------------------- the pull path past GET /v2/

TOKEN_URL = "https://auth.lab.test:5600/token"
CHALLENGE = 'Bearer realm="https://auth.lab.test:5600/token",service="registry.lab.test"'
AZURE_403_XML = (
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code>'
    "<Message>This request is not authorized to perform this operation.</Message></Error>"
)
TOKEN_SCOPES = [
    "repository:lab/hello:pull,push",
    "repository:lab/private:pull",
    "repository:lab/multi:pull",
    "repository:other/thing:pull",
    "registry:catalog:*",
]


def _basic(creds: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(creds.encode()).decode()}


def blob_path(digest: str) -> str:
    """The storage driver path of a blob: what distribution 2.8 puts after the redirect baseurl's host."""
    hexpart = digest.removeprefix("sha256:")
    return f"/docker/registry/v2/blobs/sha256/{hexpart[:2]}/{hexpart}/data"


def pull_specs(lab: Lab) -> dict[str, Any]:
    ca = str(lab.ca_file)

    def flow(port: int, **kw: Any) -> dict[str, Any]:
        spec = {"ca": ca, "registry": f"{R}:{port}", "repo": "lab/hello", "scopes": ["repository:lab/hello:pull"]}
        return spec | {"blob": lab.layer_digest, "range": "bytes=0-1023", "data_timeout": 1.5} | kw

    def get(url: str, headers: dict[str, str] | None = None, timeout: float = 2.0) -> dict[str, Any]:
        return {"url": url, "ca": ca, "headers": headers or {}, "timeout": timeout}

    tokens = f"{TOKEN_URL}?{urlencode([('service', R), *(('scope', s) for s in TOKEN_SCOPES)])}"
    data = f"https://data.lab.test{blob_path(lab.layer_digest)}"
    return {
        "flow-5601-labuser": flow(5601, creds="labuser:labpass"),
        "flow-5601-anonymous": flow(5601, range="bytes=0-9"),
        "flow-5601-private-anonymous": flow(5601, repo="lab/private", scopes=["repository:lab/private:pull"]),
        "flow-5602": flow(5602),  # the token GET itself times out (2 s)
        "flow-5603": flow(5603),
        **{f"flow-{port}": flow(port) for port in range(5604, 5610)},
        "flow-5610": {"ca": ca, "registry": f"{R}:5610", "scopes": ["repository:lab/hello:pull"]},
        "manifest-5610": get(f"https://{R}:5610/v2/lab/hello/manifests/latest"),
        "token-labuser": get(tokens, _basic("labuser:labpass")),
        "token-limited": get(tokens, _basic("limited:limitedpass")),
        "token-anonymous": get(tokens),
        "token-wrong-password": get(tokens, _basic("labuser:nope")),
        "token-unknown-user": get(tokens, _basic("nobody:labpass")),
        "token-throttled": get(f"https://auth.lab.test:5600/throttled?service={R}&scope=repository:lab/hello:pull"),
        "data-no-range": get(data),
        "data-suffix-range": get(data, {"Range": "bytes=-5"}),
        "data-unsatisfiable": get(data, {"Range": "bytes=100000-"}),
        "data-unknown": get(f"https://data.lab.test{blob_path('sha256:' + '0' * 64)}"),
        "data-escape": get("https://data.lab.test/docker/../../../../etc/passwd"),
        "replica-westeurope": get("https://pullreg.westeurope.data.azurecr.io/v2/"),
        "replica-eastus": get("https://pullreg.eastus.data.azurecr.io/v2/", timeout=1.5),
        **acr_flow_specs(lab, flow, get),
    }


@pytest.fixture(scope="module")
def pull(batches: Batches) -> dict[str, Any]:
    return batches["pull"]


def _jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    def unb64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims, sig = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(claims)), f"{header}.{claims}".encode(), unb64(sig)


def test_token_users_match_the_service() -> None:
    from lab.lab import TOKEN_USERS
    from lab.pullpath import USERS

    assert {user: password for user, (password, _rule) in USERS.items()} == TOKEN_USERS


def test_token_registries_challenge(pull: dict[str, Any]) -> None:
    for name, realm in [
        ("flow-5601-labuser", TOKEN_URL),
        ("flow-5602", "https://auth-down.lab.test:5600/token"),
        ("flow-5603", "https://auth.lab.test:5600/throttled"),
        ("flow-5610", TOKEN_URL),
    ]:
        challenge = pull[name]["challenge"]
        assert challenge["status"] == 401, (name, challenge)
        assert challenge["headers"]["www-authenticate"] == f'Bearer realm="{realm}",service="registry.lab.test"'


def test_token_service_grants(lab: Lab, pull: dict[str, Any]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    signer = x509.load_pem_x509_certificate(lab.token_signing_cert.read_bytes())
    expected = {
        "token-labuser": (
            "labuser",
            [("lab/hello", ["pull", "push"]), ("lab/private", ["pull"]), ("lab/multi", ["pull"])],
        ),
        "token-limited": ("limited", [("lab/hello", ["pull"])]),
        "token-anonymous": ("", [("lab/hello", ["pull"]), ("lab/multi", ["pull"])]),
    }
    for name, (sub, access) in expected.items():
        res = pull[name]
        assert res["status"] == 200, res
        body = json.loads(res["body"])
        assert body["token"] == body["access_token"] and body["expires_in"] == 300 and body["issued_at"]
        header, claims, signed, sig = _jwt(body["token"])
        assert header == {"typ": "JWT", "alg": "ES256", "x5c": [
            base64.b64encode(signer.public_bytes(serialization.Encoding.DER)).decode()
        ]}  # fmt: skip
        assert (claims["iss"], claims["sub"], claims["aud"]) == ("regdoctor-lab-token-service", sub, R)
        assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] <= claims["iat"] and claims["jti"]
        assert claims["access"] == [{"type": "repository", "name": n, "actions": a} for n, a in access], name
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        pub = signer.public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        pub.verify(der, signed, ec.ECDSA(hashes.SHA256()))  # raises if the signature is wrong


def test_token_service_refusals(pull: dict[str, Any]) -> None:
    unauthorized = {
        "errors": [
            {
                "code": "UNAUTHORIZED",
                "message": "authentication required, visit https://aka.ms/acr/authorization for more information.",
            }
        ]
    }
    for name in ("token-wrong-password", "token-unknown-user"):
        res = pull[name]
        assert res["status"] == 401 and res["headers"]["www-authenticate"] == 'Basic realm="lab"', res
        assert json.loads(res["body"]) == unauthorized
    for res in (pull["token-throttled"], pull["flow-5603"]["token"]):
        assert res["status"] == 429 and res["headers"]["retry-after"] == "1", res
        assert json.loads(res["body"])["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert pull["flow-5602"]["token"]["error"] == "timeout"  # auth-down.lab.test is blackholed
    assert "blob" not in pull["flow-5602"]


def test_blob_redirect_and_ranged_data_fetch(lab: Lab, pull: dict[str, Any]) -> None:
    blob = (lab.storage_root / blob_path(lab.layer_digest).lstrip("/")).read_bytes()
    location = f"https://data.lab.test{blob_path(lab.layer_digest)}"
    for name, rng in (("flow-5601-labuser", (0, len(blob) - 1)), ("flow-5601-anonymous", (0, 9))):
        res = pull[name]
        assert res["token"]["status"] == 200, res["token"]
        assert res["blob"]["status"] == 307 and res["blob"]["headers"]["location"] == location, res["blob"]
        data = res["data"]
        assert data["status"] == 206, data
        assert data["headers"]["content-range"] == f"bytes {rng[0]}-{rng[1]}/{len(blob)}"
        assert data["body"].encode("latin-1") == blob[rng[0] : rng[1] + 1]
    assert pull["flow-5601-labuser"]["data"]["sha256"] == lab.layer_digest  # the blob is under 1 KiB: all of it
    private = pull["flow-5601-private-anonymous"]
    assert private["token"]["status"] == 200 and private["blob"]["status"] == 401, private


def test_data_host_answers(lab: Lab, pull: dict[str, Any]) -> None:
    blob = (lab.storage_root / blob_path(lab.layer_digest).lstrip("/")).read_bytes()
    whole = pull["data-no-range"]
    assert (
        whole["status"] == 200 and whole["sha256"] == lab.layer_digest and whole["headers"]["accept-ranges"] == "bytes"
    )
    suffix = pull["data-suffix-range"]
    assert suffix["status"] == 206 and suffix["body"].encode("latin-1") == blob[-5:]
    assert pull["data-unsatisfiable"]["status"] == 416
    assert pull["data-unsatisfiable"]["headers"]["content-range"] == f"bytes */{len(blob)}"
    for name in ("data-unknown", "data-escape", "replica-westeurope"):
        assert pull[name]["status"] == 404 and "<Code>BlobNotFound</Code>" in pull[name]["body"], pull[name]
    assert pull["replica-eastus"]["error"] == "timeout"


def test_data_endpoint_faults(pull: dict[str, Any]) -> None:
    for port, host in [(5604, "data-drop"), (5605, "data-refused"), (5606, "data-badtls"), (5607, "data-403"),
                       (5608, "data-nx"), (5609, "data-loop")]:  # fmt: skip
        blob = pull[f"flow-{port}"]["blob"]
        assert blob["status"] == 307 and blob["headers"]["location"].startswith(f"https://{host}.lab.test/docker/")
    data = {port: pull[f"flow-{port}"]["data"] for port in range(5604, 5610)}
    assert data[5604]["error"] == "timeout"
    assert data[5605]["error"] == "ECONNREFUSED"
    assert data[5606]["error"] == "cert: certificate has expired"
    assert data[5607]["status"] == 403 and data[5607]["body"] == AZURE_403_XML
    assert data[5607]["headers"]["x-ms-error-code"] == "AuthorizationFailure"
    assert data[5608]["error"] == f"gaierror {socket.EAI_NONAME}"
    assert data[5609]["status"] == 307 and data[5609]["headers"]["location"] == data[5609]["url"]


def test_acr403_manifest_front(pull: dict[str, Any]) -> None:
    assert pull["flow-5610"]["token"]["status"] == 200  # the challenge sends clients to the real token service
    res = pull["manifest-5610"]
    assert res["status"] == 403 and res["headers"]["docker-distribution-api-version"] == "registry/2.0"
    assert json.loads(res["body"]) == {"errors": [{"code": "DENIED", "message": ACR_MSG}]}


def test_token_and_data_logs(lab: Lab, pull: dict[str, Any], skopeo_runs: SkopeoRuns) -> None:
    tokens = lab.records(lab.token_log)
    scope = "scope=repository%3Alab%2Fhello%3Apull"
    assert any(r["path"] == f"/token?service={R}&{scope}" and r["authorization"] for r in tokens), tokens
    assert any(r["path"] == f"/token?service={R}&{scope}" and not r["authorization"] for r in tokens)
    assert any(r["path"].startswith("/throttled?") and r["status"] == 429 for r in tokens)
    assert all(set(r) >= {"time", "peer", "method", "path", "authorization", "status"} for r in tokens)
    assert not any("labpass" in json.dumps(r) for r in tokens)  # credentials never reach the log
    data = lab.records(lab.data_log)
    ranged = [r for r in data if r["path"] == blob_path(lab.layer_digest) and ["Range", "bytes=0-1023"] in r["headers"]]
    assert ranged, data
    rec = ranged[0]
    assert (rec["listen"], rec["peer"], rec["method"], rec["status"]) == ("10.200.0.20:443", CLIENT_IP, "GET", 206)
    assert ["Host", "data.lab.test"] in rec["headers"]
    # skopeo's config-blob fetch, redirected from :5601: Go drops Authorization on the cross-host redirect.
    config = [r for r in data if r["path"] == blob_path(lab.config_digest) and r["listen"] == "10.200.0.20:443"]
    assert config and all(r["status"] == 200 for r in config)
    assert not any(name.lower() == "authorization" for r in config for name, _ in r["headers"])
    assert any(["Host", "pullreg.westeurope.data.azurecr.io"] in r["headers"] for r in data)


def test_skopeo_multi_platform(lab: Lab, skopeo_runs: SkopeoRuns) -> None:
    raw = skopeo_runs["multi-raw"][0]
    assert raw.returncode == 0, raw.stderr
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == lab.multi_digest
    index = json.loads(raw.stdout)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert {f"linux/{m['platform']['architecture']}": m["digest"] for m in index["manifests"]} == lab.multi_manifests
    for arch in ("amd64", "arm64"):
        res = skopeo_runs[f"multi-{arch}"][0]
        assert res.returncode == 0, res.stderr
        info = json.loads(res.stdout)
        assert (info["Digest"], info["Architecture"]) == (lab.multi_digest, arch)
        assert info["Layers"] == [lab.multi_layers[f"linux/{arch}"]]


def test_skopeo_data_endpoint_names_the_config_blob(lab: Lab, skopeo_runs: SkopeoRuns) -> None:
    err = skopeo_runs["data-refused-5605"][0].stderr
    assert f'Get \\"https://data-refused.lab.test{blob_path(lab.config_digest)}\\": dial tcp' in err, err


# ---------------------------------------------------------------------- the ACR imitation (fronts.py acr-flow)

ACR_REALM = "https://registry.lab.test:{port}/oauth2/token"
ACR_SAS = "?sv=2024-01-01&se=2099-01-01&sig=SECRETSIGNATURE%3D"


def acr_flow_specs(lab: Lab, flow: Callable[..., dict[str, Any]], get: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    manifests = f"https://{R}:5611/v2/lab/hello/manifests"
    gets = {
        "manifest": "/v2/lab/hello/manifests/latest",
        "manifest-by-digest": f"/v2/lab/hello/manifests/{lab.manifest_digest}",
        "manifest-unknown": "/v2/lab/hello/manifests/nope",
        "repo-unknown": "/v2/lab/nothing/manifests/latest",
        "repo-not-granted": "/v2/lab/private/manifests/latest",  # the token covers only the scopes asked for
        "tags": "/v2/lab/hello/tags/list",
        "v2-with-token": "/v2/",
    }
    return {
        "acr-5611-anonymous": flow(
            5611, gets=gets, scopes=["repository:lab/hello:pull", "repository:lab/nothing:pull"]
        ),
        "acr-5611-labuser": flow(5611, creds="labuser:labpass"),
        "acr-5611-wrong-password": flow(5611, creds="labuser:nope"),
        "acr-5612": flow(5612),
        "acr-manifest-no-token": get(f"{manifests}/latest"),
        "acr-manifest-bad-token": get(f"{manifests}/latest", {"Authorization": "Bearer opqNOTISSUED"}),
        "acr-manifest-basic": get(f"{manifests}/latest", _basic("labuser:labpass")),  # Bearer only
    }


def test_acr_flow_constants_match_the_lab() -> None:
    from lab import fronts
    from lab.lab import ACR_DATA_ENDPOINT, DATA_IP, REPLICA_ENDPOINTS, TOKEN_USERS

    assert fronts.ACR_DATA_ENDPOINT == ACR_DATA_ENDPOINT and REPLICA_ENDPOINTS[ACR_DATA_ENDPOINT] == DATA_IP
    assert fronts.ACR_USERS.items() <= TOKEN_USERS.items()


def test_acr_flow_token_endpoint_is_the_registry(pull: dict[str, Any]) -> None:
    for port in (5611, 5612):
        challenge = pull["acr-5612" if port == 5612 else "acr-5611-anonymous"]["challenge"]
        assert challenge["status"] == 401 and challenge["headers"]["docker-distribution-api-version"] == "registry/2.0"
        realm = ACR_REALM.format(port=port)
        assert challenge["headers"]["www-authenticate"] == f'Bearer realm="{realm}",service="registry.lab.test"'
        assert json.loads(challenge["body"])["errors"][0]["code"] == "UNAUTHORIZED"
    tokens = {}
    for name, port in (("acr-5611-anonymous", 5611), ("acr-5611-labuser", 5611), ("acr-5612", 5612)):
        res = pull[name]["token"]
        assert res["status"] == 200 and res["url"].startswith(ACR_REALM.format(port=port) + "?"), res
        body = json.loads(res["body"])
        assert list(body) == ["access_token"], body
        tokens[name] = body["access_token"]
        assert "." not in tokens[name] and not tokens[name].startswith("eyJ")  # opaque: not a JWT
    assert len(set(tokens.values())) == 3  # random per request
    refused = pull["acr-5611-wrong-password"]["token"]
    assert refused["status"] == 401 and "blob" not in pull["acr-5611-wrong-password"], refused
    assert json.loads(refused["body"]) == {
        "errors": [
            {
                "code": "UNAUTHORIZED",
                "message": "authentication required, visit https://aka.ms/acr/authorization for more information.",
            }
        ]
    }


def test_acr_flow_manifests_need_its_token(lab: Lab, pull: dict[str, Any]) -> None:
    stored = lab.storage_root / blob_path(lab.manifest_digest).lstrip("/")
    flow = pull["acr-5611-anonymous"]
    for name in ("manifest", "manifest-by-digest"):
        res = flow[name]
        assert res["status"] == 200, res
        assert res["body"].encode("latin-1") == stored.read_bytes() and res["sha256"] == lab.manifest_digest
        assert res["headers"]["content-type"] == "application/vnd.oci.image.manifest.v1+json"
        assert res["headers"]["docker-content-digest"] == lab.manifest_digest
    assert flow["manifest-unknown"]["status"] == 404
    assert json.loads(flow["manifest-unknown"]["body"])["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert json.loads(flow["repo-unknown"]["body"])["errors"][0]["code"] == "NAME_UNKNOWN"
    not_granted = flow["repo-not-granted"]
    assert (
        not_granted["status"] == 401
        and 'scope="repository:lab/private:pull"' in not_granted["headers"]["www-authenticate"]
    )
    assert json.loads(flow["tags"]["body"]) == {"name": "lab/hello", "tags": ["latest"]}
    assert flow["v2-with-token"]["status"] == 200
    challenge = f'Bearer realm="{ACR_REALM.format(port=5611)}",service="{R}",scope="repository:lab/hello:pull"'
    for name in ("acr-manifest-no-token", "acr-manifest-bad-token", "acr-manifest-basic"):
        res = pull[name]
        assert res["status"] == 401 and res["headers"]["www-authenticate"] == challenge, (name, res)


def test_acr_flow_blob_redirects_to_the_data_endpoint(lab: Lab, pull: dict[str, Any]) -> None:
    blob = (lab.storage_root / blob_path(lab.layer_digest).lstrip("/")).read_bytes()
    for name in ("acr-5611-anonymous", "acr-5611-labuser"):
        res = pull[name]
        location = f"https://pullreg.westeurope.data.azurecr.io{blob_path(lab.layer_digest)}{ACR_SAS}"
        assert res["blob"]["status"] == 307 and res["blob"]["headers"]["location"] == location, res["blob"]
        assert res["data"]["status"] == 206 and res["data"]["sha256"] == lab.layer_digest, res["data"]
        assert res["data"]["headers"]["content-range"] == f"bytes 0-{len(blob) - 1}/{len(blob)}"
    throttled = pull["acr-5612"]
    location = f"https://pullreg.westeurope.data.azurecr.io/throttled{blob_path(lab.layer_digest)}{ACR_SAS}"
    assert throttled["blob"]["status"] == 307 and throttled["blob"]["headers"]["location"] == location
    assert throttled["data"]["status"] == 429 and throttled["data"]["headers"]["retry-after"] == "2"


def test_acr_flow_log(lab: Lab, pull: dict[str, Any], skopeo_runs: SkopeoRuns) -> None:
    log = lab.records(lab.acrflow_log)
    assert all(set(r) >= {"time", "listen", "peer", "method", "path", "headers", "status"} for r in log)
    issued = {r["issued_token"]: r for r in log if "issued_token" in r}
    bearer = json.loads(pull["acr-5611-labuser"]["token"]["body"])["access_token"]
    assert issued[bearer]["user"] == "labuser" and issued[bearer]["granted"] == ["lab/hello"]
    assert ["Authorization", "Basic " + base64.b64encode(b"labuser:labpass").decode()] in issued[bearer]["headers"]
    used = [r for r in log if ["Authorization", f"Bearer {bearer}"] in r["headers"]]
    assert {r["path"] for r in used} == {f"/v2/lab/hello/blobs/{lab.layer_digest}"} and used[0]["status"] == 307
    skopeo = [r for r in log if r["listen"] == f"{S}:5611" and any(v.startswith("skopeo/") for _, v in r["headers"])]
    assert any(r["path"].startswith("/oauth2/token?") and r["status"] == 200 for r in skopeo), skopeo
    # The data endpoint got the config blob from skopeo: Go drops Authorization on the cross-host redirect.
    data = [r for r in lab.records(lab.data_log) if r["path"] == blob_path(lab.config_digest) + ACR_SAS]
    assert data and all(r["status"] == 200 for r in data)
    assert not any(name.lower() == "authorization" for r in data for name, _ in r["headers"])


# ---------------------------------------------------------------------- lifecycle


def test_second_lab_tears_down_completely(lab: Lab) -> None:
    """A second lab coexists with the session one (unique netns names) and leaves nothing behind."""
    from lab.lab import Lab as LabClass

    other = LabClass()
    assert {other.client_ns, other.server_ns}.isdisjoint({lab.client_ns, lab.server_ns})
    other.start()
    try:
        pids = other.servers
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        assert other.client_ns in netns and other.server_ns in netns
        assert all(Path(f"/proc/{pid}").exists() for pid in pids.values())
        assert other.timings["start"] < 10
    finally:
        other.stop()
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert other.client_ns not in netns.split() and other.server_ns not in netns.split()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids.values())
    assert not other.dir.exists()
    assert other.timings["stop"] < 7


if __name__ == "__main__":
    _probe_main(sys.argv[1], json.loads(sys.argv[2]))
