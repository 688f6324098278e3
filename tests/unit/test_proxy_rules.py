"""Go's and Python's proxy rules. Python's are checked against the standard library itself."""

from __future__ import annotations

import urllib.request
from unittest import mock

import pytest

from regdoctor.proxyconf.rules import (
    ProxyURLError,
    go_proxy_for,
    parse_proxy_option,
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
    assert (p.scheme, p.host, p.port, p.note) == ("http", "proxy.corp", 3128, None)
    p = parse_proxy_url("https://u:p%40ss@proxy.corp")
    assert (p.scheme, p.port, p.username, p.password) == ("https", 443, "u", "p@ss")
    assert "p@ss" not in p.redacted and "***" in p.redacted
    assert parse_proxy_url("http://p").port == 80
    assert parse_proxy_url("socks5h://s").port == 1080
    for bad in ("http://%zz", "p:%zz", "http://:3128", "http://p:99999"):
        with pytest.raises(ProxyURLError):
            parse_proxy_url(bad)


@pytest.mark.parametrize(("value", "host", "port"), [
    ("http://", "http", 80),  # Go retries "http://http://": host "http:"
    ("http://p:notaport", "http", 80),
    ("ftp://p", "p", 0),  # unknown scheme kept; no default port
])
def test_parse_proxy_url_flags_what_go_misreads(value: str, host: str, port: int) -> None:
    p = parse_proxy_url(value)
    assert (p.host, p.port) == (host, port)
    assert p.note is not None


def test_unknown_scheme_with_port_is_kept_as_go_keeps_it() -> None:
    p = parse_proxy_url("ftp://p:1")
    assert (p.scheme, p.port, p.known_scheme, p.note) == ("ftp", 1, False, None)


def test_password_never_in_errors() -> None:
    with pytest.raises(ProxyURLError) as exc:
        parse_proxy_url("http://user:s3cret@%zz")
    assert "s3cret" not in str(exc.value)
    assert "s3cret" not in str(parse_proxy_url("http://user:s3cret@p:x").note)


@pytest.mark.parametrize("value", ["notaurl", "", "ftp://p:1", "http://p:notaport", "http://", "p:0"])
def test_proxy_option_rejects_typos(value: str) -> None:
    with pytest.raises(ProxyURLError):
        parse_proxy_option(value)


@pytest.mark.parametrize("value", ["p:3128", "http://p", "https://u:p@p:443", "socks5://s:1080", "http://[::1]:3128"])
def test_proxy_option_accepts_urls(value: str) -> None:
    assert parse_proxy_option(value).host


def test_scheme_selects_the_variable() -> None:
    env = {"HTTP_PROXY": "http://plain:3128", "HTTPS_PROXY": "http://secure:3128"}
    assert go_proxy_for(env, "r.lan", 5000, scheme="http").proxy == "http://plain:3128"
    assert go_proxy_for(env, "r.lan", 5000).proxy == "http://secure:3128"
    assert python_proxy_for(env, "r.lan", 5000, scheme="http").source == "HTTP_PROXY"
    assert go_proxy_for({"HTTPS_PROXY": "http://s:1"}, "r.lan", 80, scheme="http").kind == "unset"


def test_go_cgi_refuses_http_proxy_for_http_only() -> None:
    env = {"HTTP_PROXY": "http://p:1", "HTTPS_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}
    refused = go_proxy_for(env, "r.lan", 80, scheme="http")
    assert refused.kind == "cgi_refused" and refused.direct and refused.error
    assert go_proxy_for(env, "r.lan", 443).proxy == "http://p:1"
    assert go_proxy_for({**env, "REQUEST_METHOD": ""}, "r.lan", 80, scheme="http").proxy == "http://p:1"


def test_go_ignores_an_unparseable_proxy() -> None:
    c = go_proxy_for({"HTTPS_PROXY": "http://u:pw@%zz"}, "r.io")
    assert c.kind == "invalid_proxy" and c.direct and "pw" not in c.reason


def test_choices_name_the_entry_and_variable() -> None:
    env = {"HTTPS_PROXY": P, "NO_PROXY": "a.io, .R.IO"}
    go = go_proxy_for(env, "x.r.io")
    assert (go.kind, go.source, go.entry) == ("no_proxy", "NO_PROXY", ".r.io")
    py = python_proxy_for(env, "x.r.io")
    assert (py.kind, py.source, py.entry) == ("no_proxy", "NO_PROXY", ".R.IO")


def test_go_idna_host_and_entry() -> None:
    env = {"HTTPS_PROXY": P, "NO_PROXY": "示例.com"}
    assert go_proxy_for(env, "www.xn--fsq092h.com").direct
    assert not python_proxy_for(env, "www.xn--fsq092h.com").direct  # Python compares the strings as written


def test_go_loopback_forms() -> None:
    env = {"HTTPS_PROXY": P}
    assert go_proxy_for(env, "::ffff:127.0.0.1").kind == "loopback"  # net.IP.IsLoopback on IPv4-mapped
    assert go_proxy_for(env, "LOCALHOST").kind == "proxy"  # compared before lower-casing, as Go does


def test_urllib_has_no_all_proxy_fallback() -> None:
    assert python_proxy_for({"all_proxy": P}, "r.io", client="urllib").direct
    assert python_proxy_for({"all_proxy": P}, "r.io").proxy == P


def test_redact_url() -> None:
    assert redact_url("http://user:secret@p:3128") == "http://user:***@p:3128"
    assert redact_url("http://p:3128") == "http://p:3128"
    assert "secret" not in redact_url("user:secret@p:3128")


@pytest.mark.parametrize("value", ["notaurl", "ftp://p:1", "http://u:s3cret@p:x"])
def test_check_proxy_typo_is_a_usage_error(value: str) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "regdoctor", "check", "--proxy", value, "r.example.com"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "s3cret" not in r.stderr
