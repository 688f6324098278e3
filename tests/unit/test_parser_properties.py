"""Property tests over the parsers no other property test covers: what a server sends (HTTP heads
and bodies through the real h11 loop, CONNECT replies, manifests, redirect and realm URLs, registry
error bodies), what this machine holds (resolv.conf, systemd units and env files, /proc environ,
daemon JSON/TOML), fleet input and explain input.

Each asserts that only the documented exceptions escape and that no single input costs more than
100 ms of CPU (``time.thread_time``: the test's own thread, so a busy machine does not make it
flaky). ``REGDOCTOR_HYPOTHESIS_EXAMPLES`` sets the examples per test (CI budget; 200 by default).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regdoctor import classify, net, safejson
from regdoctor.explain import explain_chunks
from regdoctor.fleet.ingest import collect, read_stream
from regdoctor.net import Deadline
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
from regdoctor.net.http import HttpResponse
from regdoctor.probe.manifest import read_manifest, shape_problem
from regdoctor.probe.redirects import RedirectRefused, join_location, redirect_target, request_target
from regdoctor.redact import redact_location
from regdoctor.runtime import syntax

EXAMPLES = int(os.environ.get("REGDOCTOR_HYPOTHESIS_EXAMPLES", "200"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUDGET_S = 0.1


def _warm_up() -> None:
    """First calls compile grammars and import lazily (one-time costs, not a per-input cost)."""
    explain_chunks([b"dial tcp 10.0.0.1:443: i/o timeout\n"], strict=True)
    syntax.load_toml("a = 1")
    syntax.load_json("{}")
    classify.classify_v2(403, "", [("content-type", "text/html")], b"<title>x</title>")
    read_manifest(HttpResponse(200, "OK", (), b"{}"))
    redirect_target("https://r.io/x")
    ndns.check_name("r.io")


_warm_up()


@contextmanager
def budget(what: object) -> Iterator[None]:
    gc.disable()  # a collection of hypothesis' garbage is not the parser's cost
    t0 = time.thread_time()
    try:
        yield
    finally:
        spent = time.thread_time() - t0
        gc.enable()
    assert spent < BUDGET_S, f"{spent * 1000:.0f} ms for {str(what)[:200]!r}"


# ------------------------------------------------------------------------------ strategies

_URLISH = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["http", "https", "ftp", "file", "data", ":", "//", "/", "[", "]", "@", "?", "#", "%",
                              "%zz", "%41", "127.0.0.1", "::1", "r.io", ":443", ":99999", " ", "\t", "\x7f", "é",
                              "a" * 70, ".", "..", "x=y", "&"]), max_size=20).map("".join),
)
_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
_JSON = st.recursive(_JSON_LEAF, lambda kids: st.one_of(st.lists(kids, max_size=5),
                                                      st.dictionaries(st.text(max_size=10), kids, max_size=5)),
                     max_leaves=30)
_MANIFEST_KEYS = st.sampled_from(["mediaType", "schemaVersion", "config", "layers", "manifests", "digest", "size",
                                  "platform", "os", "architecture", "urls", "annotations"])
_MANIFESTISH = st.recursive(
    _JSON_LEAF | st.sampled_from(["application/vnd.oci.image.index.v1+json",
                                  "application/vnd.oci.image.manifest.v1+json", "sha256:" + "a" * 64]),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(_MANIFEST_KEYS, kids, max_size=6)),
    max_leaves=25)
_HEADERS = st.lists(st.tuples(st.sampled_from(["content-type", "www-authenticate", "server", "via", "location",
                                               "x-ms-request-id", "docker-distribution-api-version", "set-cookie",
                                               "proxy-authenticate", "retry-after"]), st.text(max_size=80)),
                    max_size=6)
_BODY = st.one_of(st.binary(max_size=300), _JSON.map(lambda d: json.dumps(d).encode()),
                  st.sampled_from([b"<html><title>Access Denied</title></html>", b'{"errors": [{"code": 1}]}',
                                   b'{"errors": "x"}', b"[" * 5000]))


# ------------------------------------------------------------------------------ server answers


def _serve_once(payload: bytes) -> tuple[socket.socket, threading.Thread]:
    """A socket pair whose far end writes ``payload`` (after reading the request), then closes."""
    ours, theirs = socket.socketpair()

    def far() -> None:
        with theirs:
            theirs.settimeout(2.0)
            try:
                theirs.recv(65536)
                theirs.sendall(payload)
            except OSError:
                pass

    t = threading.Thread(target=far, daemon=True)
    t.start()
    return ours, t


_HEADISH = st.lists(st.sampled_from([b"HTTP/1.1 ", b"HTTP/1.0 ", b"HTTP/2 ", b"200 OK", b"101", b"100 Continue",
                                     b"\r\n", b"\n", b"Content-Length: ", b"-1", b"5", b"99999999999",
                                     b"Transfer-Encoding: chunked", b"0\r\n\r\n", b"zz\r\n", b": ", b"X",
                                     b"\x00", b"\xff", b" ", b"\t", b"Location: /v2/"]), max_size=30).map(b"".join)


@FAST
@given(st.one_of(_HEADISH, st.binary(max_size=400)))
def test_http_reads_any_server_bytes_as_a_response_or_an_http_error(payload: bytes) -> None:
    sock, t = _serve_once(payload)
    with sock:
        try:
            r = nhttp.request(sock, "GET", "r.io", "/v2/", Deadline(1.0), max_body=100)
        except net.HttpError:
            return
        finally:
            t.join(1.0)
    assert 100 <= r.status <= 999 and len(r.body) <= 100


@FAST
@given(st.one_of(_HEADISH, st.binary(max_size=400)))
def test_connect_reads_any_proxy_bytes_as_a_reply_or_a_proxy_error(payload: bytes) -> None:
    sock, t = _serve_once(payload)
    with sock:
        try:
            reply = nproxy.connect_tunnel(sock, "r.io", 443, Deadline(1.0))
        except net.ProxyError:
            return
        finally:
            t.join(1.0)
    assert 100 <= reply.status <= 999


@FAST
@given(st.integers(100, 599), st.text(max_size=40), _HEADERS, _BODY, st.text(max_size=50))
def test_classify_any_answer(status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                             path: str) -> None:
    with budget((status, headers, body)):
        v = classify.classify_v2(status, reason, headers, body, path=path)
        c = classify.classify_connect_reply(status, reason, headers, body)
        errs = classify.registry_errors(body, dict(headers).get("content-type", ""))
        classify.page_title(body)
        classify.body_excerpt(body)
        kept = classify.kept_headers(headers)
    assert v.status in ("pass", "warn", "fail") and c.status in ("pass", "warn", "fail")
    assert all(isinstance(e["code"], str) and isinstance(e["message"], str) for e in errs)
    assert "set-cookie" not in kept


@FAST
@given(st.one_of(_MANIFESTISH.map(lambda d: json.dumps(d).encode()), _BODY),
       st.sampled_from(["application/vnd.oci.image.manifest.v1+json", "text/plain", ""]),
       st.booleans(), st.sampled_from([None, "gzip", "identity"]))
def test_read_manifest_is_total(body: bytes, ctype: str, truncated: bool, encoding: str | None) -> None:
    headers = [("content-type", ctype)] + ([("content-encoding", encoding)] if encoding else [])
    with budget(body):
        doc, media, problem = read_manifest(HttpResponse(200, "OK", tuple(headers), body, truncated=truncated))
    assert isinstance(doc, dict) and isinstance(media, str)
    assert problem is None or isinstance(problem, str)
    if problem is None:  # what the pull path then reads from a usable manifest must be of the right type
        for key in ("layers", "manifests"):
            assert doc.get(key) is None or isinstance(doc[key], list)
        assert all(isinstance(d, dict) or d is None for d in doc.get("manifests") or [])


@FAST
@given(_MANIFESTISH, st.booleans())
def test_shape_problem_is_total(doc: Any, index: bool) -> None:
    if isinstance(doc, dict):
        assert shape_problem(doc, index=index) is None or isinstance(shape_problem(doc, index=index), str)


@FAST
@given(_URLISH, _URLISH)
def test_redirects_are_followed_or_refused_never_raised(base: str, location: str) -> None:
    with budget((base, location)):
        joined = join_location(base, location)
        got = redirect_target(joined)
        shown = redact_location(joined)
    assert isinstance(shown, str) and len(shown) <= max(len(joined), 300) + 50
    if isinstance(got, RedirectRefused):
        assert got.reason
        return
    scheme, host, port, target = got
    assert scheme in ("http", "https") and host and 0 < port <= 65535
    assert target.startswith("/") and all(0x21 <= ord(c) <= 0x7E for c in target)  # a valid request-target


@FAST
@given(st.text(max_size=200), st.text(max_size=200))
def test_request_target_is_always_sendable(path: str, query: str) -> None:
    t = request_target(path, query)
    assert t.startswith("/") and all(0x21 <= ord(c) <= 0x7E for c in t)


# ------------------------------------------------------------------------------ this machine


@FAST
@given(st.text(max_size=400))
def test_resolv_conf_parser(text: str) -> None:
    with budget(text):
        servers = ndns.parse_resolv_conf(text)
    assert len(servers) <= 3


@FAST
@given(st.one_of(st.text(max_size=300), st.lists(st.sampled_from(["a", "-", "_", ".", "xn--", "é", "a" * 64, "\x00",
                                                                   " ", "A"]), max_size=30).map("".join)))
def test_check_name_is_a_name_or_name_invalid(name: str) -> None:
    with budget(name):
        try:
            out = ndns.check_name(name)
        except net.DnsNameInvalid as exc:
            assert exc.info["reason"] in ("length", "label", "idna", "chars")
            return
    assert ndns.is_domain_name(out) and len(out) <= 253 and out == out.lower()


_UNITISH = st.lists(st.sampled_from(["[Service]", "[Unit]", "\n", "Environment=", "EnvironmentFile=", "ExecStart=",
                                     "HTTPS_PROXY=", "http://p:1", '"', "'", "\\", "\\\n", "#", ";", " ", "%h",
                                     "%%", "%Z", "$", "${A}", "=", "\t", "\x00", "é"]), max_size=40).map("".join)


@FAST
@given(st.one_of(_UNITISH, st.text(max_size=300)))
def test_systemd_syntax_parsers_are_total(text: str) -> None:
    with budget(text):
        lines = syntax.unit_lines(text)
        syntax.parse_environment(lines, syntax.unit_specifiers("docker.service"))
        for line in lines:
            syntax.split_words(line.value)
            syntax.exec_words(line.value)
            syntax.resolve_specifiers(line.value, {"h": "/root"})
        env = syntax.parse_env_file(text)
    assert all(a.name for a in env.assignments)


@FAST
@given(st.binary(max_size=400))
def test_proc_environ_parser(data: bytes) -> None:
    with budget(data):
        env = syntax.parse_environ(data)
    assert all(k and "\0" not in k for k in env)


@FAST
@given(st.one_of(_JSON.map(json.dumps), st.text(max_size=300), st.just("[" * 10_000)))
def test_daemon_config_loaders_raise_only_config_syntax_error(text: str) -> None:
    with budget(text[:100]):
        for load in (syntax.load_json, syntax.load_toml):
            with contextlib.suppress(syntax.ConfigSyntaxError):
                load(text)


# ------------------------------------------------------------------------------ fleet, explain


_REPORT = json.dumps({"schema": 1, "tool": "regdoctor", "status": "problems", "node": {"name": "n1"},
                      "endpoints": [], "findings": []})
_FLEETISH = st.lists(st.sampled_from([_REPORT, "\n", "{", "}", "[pod/x/y] ", '"schema": 1', "garbage", "\x00",
                                      '{"schema": 2}', "[" * 100]), max_size=20).map("".join)


@FAST
@given(st.one_of(_FLEETISH, st.text(max_size=300)))
def test_fleet_ingest_is_total(text: str) -> None:
    with budget(text):
        read_stream(text, "stdin")
        got = collect([("a.jsonl", text)])
    assert all(r.node for r in got.reports)


@FAST
@given(st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([
    b"dial tcp 10.0.0.1:443: i/o timeout\n", b"x509: certificate signed by unknown authority\n", b"\n",
    b"Error response from daemon: ", b"https://user:secret@r.io/v2/", b"-" * 500 + b"@", b"a." * 300 + b"@"])),
    max_size=10))
def test_explain_any_chunks(chunks: list[bytes]) -> None:
    # pieces on lines of their own: a URL glued to the bytes before it ("K8https://user:pw@…")
    # is explain's own redaction question (reported, issue 9), not this test's
    chunks = [c + b"\n" for c in chunks]
    with budget(chunks):
        ex = explain_chunks(chunks, strict=True)
    assert ex.lines >= 0
    rendered = json.dumps(ex.extra(), default=str)
    assert "user:secret@r.io" not in rendered  # a URL's credentials never reach the output


# ------------------------------------------------------------------------------ safejson


@FAST
@given(st.one_of(st.binary(max_size=300), _JSON.map(lambda d: json.dumps(d).encode())), st.integers(1, 80))
def test_safejson_raises_only_its_error(data: bytes, depth: int) -> None:
    with budget(data):
        try:
            safejson.loads(data, max_depth=depth)
        except safejson.JSONLimitError as exc:
            assert exc.kind in ("too_big", "too_deep", "not_utf8", "not_json")


def _time(fn: Callable[[], object]) -> float:
    t0 = time.thread_time()
    fn()
    return time.thread_time() - t0


def test_large_hostile_inputs_stay_linear() -> None:
    """The sizes hypothesis does not reach: 1 MB of the worst pieces, each well under a second."""
    big = 1_000_000
    cases: list[Callable[[], object]] = [
        lambda: request_target("/" + " " * big, "a b" * (big // 3)),
        lambda: redirect_target("http://" + "[" * big),
        lambda: redact_location("https://h/?" + "a=b&" * (big // 4)),
        lambda: ndns.parse_resolv_conf("nameserver 1.1.1.1\n" * (big // 20)),
        lambda: syntax.parse_env_file("A='" + "\\'" * (big // 2)),
        lambda: syntax.unit_lines("[Service]\nEnvironment=" + "x \\\n" * (big // 4)),
        lambda: classify.classify_v2(403, "", [("content-type", "text/html")], b"<title>" + b"a" * big),
        lambda: shape_problem({"layers": [{"digest": "sha256:x"}] * (big // 10)}, index=False),
        lambda: read_stream("{" * big, "stdin"),
        lambda: ndns.check_name("a." * 126 + "a"),
    ]
    for i, case in enumerate(cases):
        assert _time(case) < 1.0, i
