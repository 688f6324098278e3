"""`check` and `explain` give the same code and layer for the same fault (one host-role and wrap table).

For each lab fault the test runs, in the lab's client namespace and at the same time:

- `regdoctor check REF` (the live probe) and takes its first root cause;
- a real client on the same reference (skopeo, and podman/buildah when installed: containers/image, the
  most common client library on a node) and `regdoctor explain` on what it printed, taking its first
  finding.

Both must name the same code and layer. Where a client's text cannot tell the lab's fault from its
neighbour (`no such host` for NXDOMAIN and NODATA, a dropped 403 body), the case lists the codes the text
may name instead, and check's code must then be among explain's findings.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.lab import Lab
from lab.runcli import check, root
from regdoctor.explain import explain

pytestmark = pytest.mark.lab

R = "registry.lab.test"
IMG = "lab/hello:latest"


@dataclass(frozen=True)
class Fault:
    name: str
    ref: str
    check_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: codes the client's text may name first instead (it cannot tell them from check's)
    text_may_say: tuple[str, ...] = ()
    timeout: str = "10s"


FAULTS = (
    Fault("dns-nxdomain", f"nx.lab.test:5441/{IMG}"),
    Fault("tcp-refused", f"{R}:5449/{IMG}"),
    Fault("tcp-no-route", f"{R}:8443/{IMG}"),
    Fault("tls-unknown-ca", f"{R}:5446/{IMG}"),
    Fault("tls-expired", f"{R}:5444/{IMG}"),
    Fault("tls-not-yet-valid", f"{R}:5445/{IMG}"),
    Fault("tls-name-mismatch", f"{R}:5447/{IMG}"),
    # an inspection CA re-signing a hosted registry's name: check reads the issuer, explain the host
    Fault("tls-intercepted", f"labreg.azurecr.io:5440/{IMG}"),
    Fault("data-expired-certificate", f"{R}:5606/{IMG}"),
    Fault("http-rate-limited", f"{R}:5451/{IMG}", timeout="30s"),
    Fault("http-server-error", f"{R}:5442/{IMG}"),
    Fault("registry-manifest-unknown", f"{R}:5601/lab/hello:no-such-tag"),
    Fault("auth-realm-unreachable", f"{R}:5602/{IMG}", ("--timeout", "2"), timeout="3s"),
    Fault("data-refused", f"{R}:5605/{IMG}"),
    Fault("data-nxdomain", f"{R}:5608/{IMG}"),
    Fault("data-denied", f"{R}:5607/{IMG}"),
    Fault("data-blackholed", f"{R}:5604/{IMG}", ("--timeout", "2"), timeout="3s"),
    Fault("proxy-refused", f"{R}:5441/{IMG}", env={"HTTPS_PROXY": "http://127.0.0.1:3129"}),
    Fault("proxy-auth-required", f"{R}:5441/{IMG}", env={"HTTPS_PROXY": "http://127.0.0.1:3132"}),
    Fault("proxy-unresolvable", f"{R}:5441/{IMG}", env={"HTTPS_PROXY": "http://proxy.nx.lab.test:3128"}),
    Fault("proxy-https-scheme", f"{R}:5441/{IMG}", env={"HTTPS_PROXY": "https://127.0.0.1:3128"}),
    # Dante refusing CONNECT (RFC 1928): check's SOCKS client and Go's x/net/proxy words for it (socks5://:
    # the Go of skopeo 1.9 reads `socks5h://` as a host named socks5h, see the capture script's case)
    Fault("socks-denied", f"blocked.lab.test:5441/{IMG}", env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    Fault("socks-upstream-refused", f"{R}:5449/{IMG}", env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
)


def _skopeo(lab: Lab, f: Fault) -> str:
    r = lab.skopeo("inspect", "--command-timeout", f.timeout, "--cert-dir", str(lab.ca_dir), f"docker://{f.ref}",
                   env=f.env, timeout=float(f.timeout.rstrip("s")) + 60)
    assert r.returncode != 0, f"skopeo succeeded on {f.name}"
    return r.stderr + r.stdout


def _podman(lab: Lab, f: Fault, short: Path) -> str | None:
    exe = "/usr/bin/podman"
    if not os.path.exists(exe):
        return None
    root_dir = lab.dir / "agree" / f.name
    argv = [exe, "--root", str(root_dir), "--runroot", str(short / f.name[:12]), "--storage-driver", "vfs", "pull",
            "--signature-policy", str(lab.dir / "containers" / "policy.json"), "--cert-dir", str(lab.ca_dir), f.ref]
    env = {**lab.skopeo_env(), "SSL_CERT_FILE": str(lab.ca_file), **f.env}
    r = lab.client(argv, env=env, timeout=400)
    assert r.returncode != 0, f"podman succeeded on {f.name}"
    return r.stderr + r.stdout


def _check(lab: Lab, f: Fault) -> tuple[str, str]:
    args = [*f.check_args]
    if "HTTPS_PROXY" in f.env:
        args += ["--proxy", f.env["HTTPS_PROXY"]]
    _, doc, _ = check(lab, f.ref, *args, env=f.env)
    first = root(doc)
    return first["code"], first["layer"]


@pytest.fixture(scope="module")
def verdicts(lab: Lab) -> dict[str, tuple[tuple[str, str], dict[str, str]]]:
    """fault -> (check's code and layer, client -> what that client printed)."""
    short = Path(tempfile.mkdtemp(prefix="rda-", dir="/tmp"))  # podman wants a short runroot
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            checks = {f.name: pool.submit(_check, lab, f) for f in FAULTS}
            skopeo = {f.name: pool.submit(_skopeo, lab, f) for f in FAULTS}
            podman = {f.name: pool.submit(_podman, lab, f, short) for f in FAULTS}
            out = {}
            for f in FAULTS:
                texts = {"skopeo": skopeo[f.name].result()}
                p = podman[f.name].result()
                if p is not None:
                    texts["podman"] = p
                out[f.name] = (checks[f.name].result(), texts)
            return out
    finally:
        shutil.rmtree(short, ignore_errors=True)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_check_and_explain_name_the_same_code_and_layer(verdicts: dict[str, tuple[tuple[str, str], dict[str, str]]],
                                                       fault: Fault) -> None:
    (code, layer), texts = verdicts[fault.name]
    for client, text in texts.items():
        findings = explain(text).findings
        assert findings, (client, text)
        got = (findings[0].code, findings[0].layer)
        if findings[0].code in fault.text_may_say:
            assert code in [f.code for f in findings], (client, code, [f.code for f in findings], text)
            continue
        assert got == (code, layer), (client, f"check {code}/{layer}, explain {got}", text[-600:])


def test_enough_faults_on_every_layer() -> None:
    from regdoctor import kb

    assert len(FAULTS) >= 15
    layers = {kb.code(c).layer for c in ("DNS_NXDOMAIN", "TCP_REFUSED", "TLS_EXPIRED", "HTTP_RATE_LIMITED",
                                         "REGISTRY_MANIFEST_UNKNOWN", "AUTH_REALM_UNREACHABLE",
                                         "DATA_ENDPOINT_BLOCKED", "PROXY_REFUSED")}
    assert layers == {"dns", "tcp", "tls", "http", "registry", "auth", "data", "proxy"}
