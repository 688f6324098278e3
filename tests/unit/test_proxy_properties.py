"""Property tests for the proxy rules: hostile environments never break them, each answer is
fast, and the Python rules agree with the running standard library (and requests) as oracles."""

from __future__ import annotations

import contextlib
import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import requests.utils
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from timing import bounded

from regdoctor.proxyconf import goproxy, pyproxy
from regdoctor.proxyconf.gourl import GoURLError, go_url_parse
from regdoctor.proxyconf.rules import (
    ProxyURLError,
    go_proxy_for,
    parse_proxy_option,
    parse_proxy_url,
    python_proxy_for,
)

FAST = 0.1  # seconds per evaluation
SETTINGS = settings(max_examples=int(os.environ.get("REGDOCTOR_HYPOTHESIS_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_PIECES = ["example.com", ".corp", "*.r.io", "r.io", "*", "localhost", "127.0.0.1", "10.0.0.0/8", "::1",
           "[::1]:443", "fd00::/8", "192.168.1.1:80", "xn--fsq092h.com", "示例.com", "Bücher.DE", ":1", "a:b:c",
           "[x]", "%25",
           "http://p:3128", "https://u:p@q", "p:notaport", "socks5h://s", "foo://h", "http://[::1", "\t", " ", "\n",
           "ß", "İ", "\u200d", "\u0301", "\udc80", ".", "..", ",", ":", "/", "@", "#", "?", "0", "65536", "01.2.3.4"]
chunk = st.one_of(st.sampled_from(_PIECES), st.text(max_size=8))
value = st.lists(chunk, max_size=12).map("".join) | st.lists(chunk, max_size=8).map(",".join)
_NAMES = ["http_proxy", "HTTP_PROXY", "Http_Proxy", "https_proxy", "HTTPS_PROXY", "Https_proxy", "no_proxy",
          "NO_PROXY", "No_Proxy", "all_proxy", "ALL_PROXY", "REQUEST_METHOD", "ftp_proxy", "x_PROXY", "_proxy",
          "İ_PROXY", "ΑΣ_PROXY"]
name = st.sampled_from(_NAMES) | st.text(min_size=1, max_size=10).map(lambda s: s + "_proxy")
env_st = st.lists(st.tuples(name, value), max_size=8).map(dict)
host_st = st.one_of(st.sampled_from(["r.io", "a.r.io", "bar.io", "localhost", "LOCALHOST", "127.0.0.5", "::1",
                                     "fd00::1", "10.1.2.3", "192.168.1.1", "www.示例.com", "xn--fsq092h.com",
                                     "127.1", "1.2.3.4.5", "Example.COM", "fe80::1%eth0"]),
                    st.from_regex(r"[a-z0-9.\-]{1,30}", fullmatch=True))
port_st = st.sampled_from([80, 443, 5000, 8080, 1])
scheme_st = st.sampled_from(["https", "http"])


def _timed(fn: Callable[[], Any]) -> Any:
    return bounded(fn, FAST)


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as exc:  # comparing the peer's exception type is the point
        return "raise", type(exc).__name__


@SETTINGS
@given(env=env_st, host=host_st, port=port_st, scheme=scheme_st)
def test_rules_never_raise_and_are_fast(env: dict[str, str], host: str, port: int, scheme: str) -> None:
    go = _timed(lambda: go_proxy_for(env, host, port, scheme=scheme))
    assert go.proxy is None or go.proxy in env.values()
    for client in ("requests", "urllib"):
        # documented: ValueError where the peer itself raises one (a proxy URL with no authority)
        with contextlib.suppress(ValueError):
            _timed(lambda c=client: python_proxy_for(env, host, port, scheme=scheme, client=c))  # type: ignore[misc]
    for v in env.values():
        with contextlib.suppress(ProxyURLError):
            _timed(lambda v=v: parse_proxy_url(v))  # type: ignore[misc]
        with contextlib.suppress(ProxyURLError):
            _timed(lambda v=v: parse_proxy_option(v))  # type: ignore[misc]


@SETTINGS
@given(no_proxy=value, addr=st.tuples(host_st | value, port_st).map(lambda t: f"{t[0]}:{t[1]}") | value)
def test_go_no_proxy_compiles_anything(no_proxy: str, addr: str) -> None:
    compiled = _timed(lambda: goproxy.go_compile_no_proxy(no_proxy))
    use = _timed(lambda: goproxy.go_use_proxy(compiled, addr))
    assert use.use or use.kind in ("loopback", "no_proxy", "bad_address")


@SETTINGS
@given(raw=value)
def test_go_url_parse_only_raises_its_error(raw: str) -> None:
    try:
        u = _timed(lambda: go_url_parse(raw))
    except GoURLError:
        return
    u.string(), u.redacted(), u.hostname(), u.port()


def test_huge_no_proxy_is_fast() -> None:
    no_proxy = ",".join(f"host{i}.example.com,10.{i % 256}.0.0/16,*.w{i}.io:443" for i in range(3000))
    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": no_proxy, "no_proxy": no_proxy}
    for fn in (lambda: go_proxy_for(env, "miss.example.org"), lambda: python_proxy_for(env, "miss.example.org")):
        t0 = time.perf_counter()
        fn()
        assert time.perf_counter() - t0 < 1.0  # 3 × 3000 entries, ~270 kB


# --- oracles ---------------------------------------------------------------------------------------


@SETTINGS
@given(env=env_st)
def test_getproxies_environment_matches_stdlib(env: dict[str, str]) -> None:
    with mock.patch.object(os, "environ", env):
        oracle = urllib.request.getproxies_environment()
    assert _timed(lambda: pyproxy.getproxies_environment(env)) == oracle


@SETTINGS
@given(no_proxy=value, host=host_st | value, port=st.none() | port_st)
def test_proxy_bypass_environment_matches_stdlib(no_proxy: str, host: str, port: int | None) -> None:
    target = host if port is None else f"{host}:{port}"
    proxies = {"no": no_proxy}
    assert _timed(lambda: pyproxy.proxy_bypass_environment(target, proxies)) == bool(
        urllib.request.proxy_bypass_environment(target, proxies))


class _Parent:
    def open(self, req: Any, timeout: Any = None) -> None:
        return None


def _stdlib_urllib_host(env: dict[str, str], url: str) -> tuple[str, Any]:
    def run() -> Any:
        req = urllib.request.Request(url)
        req.timeout = None  # type: ignore[attr-defined]  # OpenerDirector.open sets it
        handler = urllib.request.ProxyHandler()  # reads the (patched) environment
        handler.parent = _Parent()  # type: ignore[assignment]
        opener = getattr(handler, f"{req.type}_open", None)
        if opener is not None:
            opener(req)
        return req.host if (req.has_proxy() or req._tunnel_host) else None

    with mock.patch.object(os, "environ", env):
        return _outcome(run)


def _url(scheme: str, host: str, port: int | None) -> str:
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "") + "/"


@SETTINGS
@given(env=env_st, host=host_st, port=st.none() | port_st, scheme=scheme_st)
def test_urllib_choice_matches_stdlib(env: dict[str, str], host: str, port: int | None, scheme: str) -> None:
    url = _url(scheme, host, port)
    ours = _outcome(lambda: pyproxy.urllib_proxy_for(env, url))
    mine = ("ok", ours[1].hostport if ours[1].proxy is not None else None) if ours[0] == "ok" else ours
    assert mine == _stdlib_urllib_host(env, url)


@SETTINGS
@given(env=env_st, host=host_st, port=st.none() | port_st, scheme=scheme_st, arg=st.none() | value)
def test_requests_matches_requests(env: dict[str, str], host: str, port: int | None, scheme: str,
                                   arg: str | None) -> None:
    url = _url(scheme, host, port)
    with mock.patch.object(os, "environ", dict(env)):
        bypass = _outcome(lambda: requests.utils.should_bypass_proxies(url, no_proxy=arg))
        environ = _outcome(lambda: requests.utils.get_environ_proxies(url, no_proxy=arg))
        chosen = _outcome(lambda: requests.utils.select_proxy(url, environ[1])) if environ[0] == "ok" else environ
    ours = _outcome(lambda: pyproxy.should_bypass_proxies(env, url, arg))
    assert (ours[0], ours[1].bypass if ours[0] == "ok" else ours[1]) == bypass
    assert _outcome(lambda: pyproxy.get_environ_proxies(env, url, arg)) == environ
    decision = _outcome(lambda: pyproxy.requests_proxy_for(env, url, arg))
    assert (decision[0], decision[1].proxy if decision[0] == "ok" else decision[1]) == chosen


@pytest.mark.parametrize("env", [
    {"HTTPS_PROXY": "http://a:1", "https_proxy": ""},
    {"https_proxy": "", "HTTPS_PROXY": "http://a:1"},
    {"REQUEST_METHOD": "", "HTTP_PROXY": "http://a:1"},
    {"Https_Proxy": "http://m:1", "HTTPS_PROXY": "http://u:1"},
    {"HTTPS_PROXY": "http://u:1", "Https_Proxy": "http://m:1"},
])
def test_getproxies_order_and_case_examples(env: dict[str, str]) -> None:
    with mock.patch.object(os, "environ", env):
        assert pyproxy.getproxies_environment(env) == urllib.request.getproxies_environment()


@pytest.mark.parametrize("raw,secret", [
    ("http://: :000000@", "000000"),  # found by hypothesis: the quoted-piece regex missed it
    ("http://user:s3cret pw@proxy:3128", "s3cret pw"),
])
def test_proxy_password_in_go_error_is_hidden(raw: str, secret: str) -> None:
    note = parse_proxy_url(raw).note or ""
    assert secret not in note and "***" in note


@SETTINGS
@given(before=value, after=value, secret=st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True),
       scheme=st.sampled_from(["http://", "https://", "", "foo://"]))
def test_proxy_password_never_reported(before: str, after: str, secret: str, scheme: str) -> None:
    assume(secret not in before + after)  # only the password is secret
    raw = f"{scheme}{before}user:{secret}@{after}"
    env = {"HTTPS_PROXY": raw, "HTTP_PROXY": raw}
    for choice in (go_proxy_for(env, "r.io"), go_proxy_for(env, "r.io", 80, scheme="http")):
        assert secret not in choice.reason and secret not in (choice.error or "")
    for fn in (parse_proxy_url, parse_proxy_option):
        try:
            p = fn(raw)
        except ProxyURLError as exc:
            assert secret not in str(exc)
        else:
            assert secret not in (p.note or "") and secret not in p.redacted
