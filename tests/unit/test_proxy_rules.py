"""Go's and Python's proxy rules. Python's are checked against the standard library itself."""

from __future__ import annotations

import urllib.request
from unittest import mock

import pytest

from regdoctor.proxyconf.rules import (
    ProxyURLError,
    go_proxy_for,
    parse_proxy_url,
    python_proxy_for,
    redact_url,
)

P = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("env", "host", "port", "direct"),
    [
        ({}, "r.io", 443, True),
        ({"HTTPS_PROXY": P}, "r.io", 443, False),
        ({"https_proxy": P}, "r.io", 443, False),
        ({"HTTP_PROXY": P}, "r.io", 443, True),  # Go >= 1.16: HTTP_PROXY not used for https
        ({"HTTPS_PROXY": P}, "localhost", 443, True),  # loopback never proxied
        ({"HTTPS_PROXY": P}, "127.0.0.5", 443, True),
        ({"HTTPS_PROXY": P}, "::1", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "*"}, "r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "localhost,*"}, "r.io", 443, True),  # * anywhere
        ({"HTTPS_PROXY": P, "NO_PROXY": "r.io"}, "r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "r.io"}, "a.r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "r.io"}, "bar.io", 443, False),  # label boundary
        ({"HTTPS_PROXY": P, "NO_PROXY": ".r.io"}, "r.io", 443, False),  # subdomains only
        ({"HTTPS_PROXY": P, "NO_PROXY": ".r.io"}, "a.r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "*.r.io"}, "a.r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "*.r.io"}, "r.io", 443, False),
        ({"HTTPS_PROXY": P, "NO_PROXY": "r.io:443"}, "r.io", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "r.io:5000"}, "r.io", 443, False),
        ({"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, "10.1.2.3", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, "r.io", 443, False),  # no DNS lookup for CIDRs
        ({"HTTPS_PROXY": P, "NO_PROXY": "fd00::/8"}, "fd00::1", 443, True),
        ({"HTTPS_PROXY": P, "NO_PROXY": "10.1.2.3"}, "10.1.2.3", 443, True),
        ({"HTTPS_PROXY": "", "https_proxy": P}, "r.io", 443, False),  # empty upper falls through
        ({"HTTPS_PROXY": P, "NO_PROXY": " R.IO "}, "r.io", 443, True),  # trimmed, lower-cased
    ],
)
def test_go_rules(env: dict[str, str], host: str, port: int, direct: bool) -> None:
    assert go_proxy_for(env, host, port).direct is direct


def test_go_upper_case_wins() -> None:
    assert go_proxy_for({"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2"}, "r.io").proxy == "http://a:1"


def test_python_lower_case_wins_and_empty_cancels() -> None:
    assert python_proxy_for({"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2"}, "r.io").proxy == "http://b:2"
    assert python_proxy_for({"HTTPS_PROXY": "http://a:1", "https_proxy": ""}, "r.io").direct


def test_python_all_proxy_fallback() -> None:
    assert python_proxy_for({"ALL_PROXY": P}, "r.io").proxy == P
    assert go_proxy_for({"ALL_PROXY": P}, "r.io").direct


ORACLE_CASES = [
    ({"https_proxy": P}, "r.io"),
    ({"https_proxy": P, "no_proxy": "*"}, "r.io"),
    ({"https_proxy": P, "no_proxy": "localhost,*"}, "r.io"),
    ({"https_proxy": P, "no_proxy": ".r.io"}, "r.io"),
    ({"https_proxy": P, "no_proxy": ".r.io"}, "a.r.io"),
    ({"https_proxy": P, "no_proxy": "*.r.io"}, "a.r.io"),
    ({"https_proxy": P, "no_proxy": "r.io"}, "bar.io"),
    ({"https_proxy": P, "no_proxy": "r.io"}, "a.r.io"),
    ({"https_proxy": P, "no_proxy": "r.io:443"}, "r.io"),
    ({"HTTPS_PROXY": P, "NO_PROXY": "other.io"}, "r.io"),
    ({"HTTPS_PROXY": P, "https_proxy": ""}, "r.io"),
    ({"HTTPS_PROXY": P, "NO_PROXY": "R.IO"}, "r.io"),
]


@pytest.mark.parametrize(("env", "host"), ORACLE_CASES)
def test_python_rules_match_urllib(env: dict[str, str], host: str) -> None:
    """Our Python model agrees with urllib.request on the same environment."""
    with mock.patch.dict("os.environ", env, clear=True):
        proxies = urllib.request.getproxies_environment()
        bypass = bool(urllib.request.proxy_bypass_environment(host, proxies)) if "no" in proxies else False
        oracle_direct = "https" not in proxies or bypass
    assert python_proxy_for(env, host).direct is oracle_direct


@pytest.mark.parametrize(
    ("env", "host"),
    [({"HTTPS_PROXY": P, "NO_PROXY": "localhost,*"}, "r.io"),
     ({"HTTPS_PROXY": P, "NO_PROXY": "*.r.io"}, "a.r.io"),
     ({"HTTPS_PROXY": P, "NO_PROXY": ".r.io"}, "r.io"),
     ({"HTTPS_PROXY": P, "NO_PROXY": "r.io:443"}, "r.io"),
     ({"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2"}, "r.io")],
)
def test_known_disagreements(env: dict[str, str], host: str) -> None:
    assert go_proxy_for(env, host).proxy != python_proxy_for(env, host).proxy


def test_parse_proxy_url() -> None:
    p = parse_proxy_url("proxy.corp:3128")
    assert (p.scheme, p.host, p.port) == ("http", "proxy.corp", 3128)
    p = parse_proxy_url("https://u:p%40ss@proxy.corp")
    assert (p.scheme, p.port, p.username, p.password) == ("https", 443, "u", "p@ss")
    assert "p@ss" not in p.redacted and "***" in p.redacted
    assert parse_proxy_url("http://p").port == 80
    for bad in ("ftp://p:1", "http://", "http://p:notaport"):
        with pytest.raises(ProxyURLError):
            parse_proxy_url(bad)


def test_redact_url() -> None:
    assert redact_url("http://user:secret@p:3128") == "http://user:***@p:3128"
    assert redact_url("http://p:3128") == "http://p:3128"
    assert "secret" not in redact_url("user:secret@p:3128")
