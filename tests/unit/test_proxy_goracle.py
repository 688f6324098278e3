"""Differential test against the real Go: ``net/http.ProxyFromEnvironment`` of the installed Go
toolchain (tests/goracle, built here) versus regdoctor's port, on a seeded random batch of
environments and request URLs. Skipped where no ``go`` is installed."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from regdoctor.proxyconf import goproxy
from regdoctor.proxyconf.gourl import GoURLError, go_url_parse

HARNESS = Path(__file__).resolve().parents[1] / "goracle"
GO = shutil.which("go")

_PIECES = ["example.com", ".corp", "*.r.io", "r.io", "*", "localhost", "127.0.0.1", "10.0.0.0/8", "::1", "[::1]:443",
           "fd00::/8", "192.168.1.1:80", "xn--fsq092h.com", "示例.com", "Bücher.DE", ":1", "a:b:c", "[x]", "%25",
           "http://p:3128", "https://u:p@q", "p:notaport", "socks5h://s", "foo://h", "http://[::1", " ", "\t",
           "ß", "☃.net", "xn--n3h.net", ".", ",", ":", "/", "@", "0", "01.2.3.4", "::ffff:127.0.0.1", "LOCALHOST",
           "10.1.2.3", "fd00::1", "a.r.io", "www.示例.com", "ab--c", "-x", "1000::%25.example.com"]
_NAMES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD",
          "ALL_PROXY"]
_HOSTS = ["r.io", "a.r.io", "localhost", "LOCALHOST", "127.0.0.5", "[::1]", "[fd00::1]", "10.1.2.3", "192.168.1.1",
          "www.示例.com", "www.xn--fsq092h.com", "xn--n3h.net", "☃.net", "example.com", "[::ffff:127.0.0.1]",
          "bücher.de", "[1000::%25.example.com]", "ab--c.io"]


def _value(rng: random.Random) -> str:
    parts = [rng.choice(_PIECES) for _ in range(rng.randint(0, 4))]
    return rng.choice([",", "", ", "]).join(parts)


def _cases(n: int, seed: int = 8) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        env = [[name, _value(rng)] for name in rng.sample(_NAMES, rng.randint(1, 5))]
        port = rng.choice(["", ":80", ":443", ":5000"])
        out.append({"env": env, "url": f"{rng.choice(['http', 'https'])}://{rng.choice(_HOSTS)}{port}/v2/"})
    return out


@pytest.fixture(scope="module")
def goracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if GO is None:
        if os.environ.get("CI", "").lower() == "true":  # the README test command installs golang-go
            pytest.fail("CI=true but no Go toolchain: the Go oracle of the proxy rules must run in CI", pytrace=False)
        pytest.skip("no Go toolchain installed")
    out = tmp_path_factory.mktemp("goracle") / "goracle"
    subprocess.run([GO, "build", "-o", str(out), "."], cwd=HARNESS, check=True, capture_output=True, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(out.parent), "GOCACHE": str(out.parent / "cache"),
                        "GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOTOOLCHAIN": "local"})
    return out


def _go_minor() -> int:
    assert GO is not None
    out = subprocess.run([GO, "version"], capture_output=True, text=True, check=True, timeout=60).stdout
    return int(out.split()[2].removeprefix("go").split(".")[1])


def _ours(case: dict[str, object], minor: int) -> dict[str, str]:
    env = {k: v for k, v in case["env"]}  # type: ignore[attr-defined]
    try:
        url = go_url_parse(str(case["url"]))
    except GoURLError as exc:
        return {"bad_url": str(exc)}
    # the two rules that changed in the ported x/net's history, as the installed Go vendors them
    cfg = replace(goproxy.go_config_from_env(env), keep_unknown_schemes=minor >= 22, zones_are_ips=minor >= 24)
    d = goproxy.go_proxy_for_url(cfg, url)
    return {"proxy": d.proxy.string() if d.proxy else "", "error": d.error or ""}


def test_port_agrees_with_installed_go(goracle: Path) -> None:
    cases = _cases(1000)
    r = subprocess.run([str(goracle)], input="".join(json.dumps(c) + "\n" for c in cases), capture_output=True,
                       text=True, timeout=300, check=True)
    answers = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(answers) == len(cases)
    minor = _go_minor()
    differ = []
    for case, go in zip(cases, answers, strict=True):
        go = {k: v for k, v in go.items() if v or k in ("proxy", "error")}
        ours = _ours(case, minor)
        if "bad_url" in go or "bad_url" in ours:
            assert ("bad_url" in go) == ("bad_url" in ours), (case, go, ours)
            continue
        if ours != go:
            differ.append((case, go, ours))
    assert not differ, f"{len(differ)} of {len(cases)} differ, first: {differ[:3]}"
