"""The text layout: verdict first, consequences folded into their root cause, alternatives
labelled and in confidence order, fixes outside the border and never broken."""

from __future__ import annotations

from dataclasses import replace

from regdoctor import kb
from regdoctor.diagnose import diagnose
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Report, Step
from regdoctor.render.lines import Terminal, wrap
from regdoctor.render.text import render_findings, render_report


def _report() -> Report:
    e = EndpointResult(host="r.io", port=443, role="registry", steps=(
        Step("dns", "resolve", "pass", 1.0, "10.0.0.1"),
        Step("tcp", "connect", "fail", 3000.0, "dial tcp 10.0.0.1:443: i/o timeout", Code.TCP_TIMEOUT,
             {"address": "10.0.0.1", "port": 443, "timeout_s": 3.0}),
        Step("tls", "handshake", "skip", 0.0, "not run"),
    ))
    ok = EndpointResult(host="auth.r.io", port=443, role="realm", steps=(Step("dns", "resolve", "pass", 1.0, "x"),))
    return Report(targets=("r.io",), endpoints=(e, ok), findings=tuple(diagnose([e, ok])), elapsed_ms=3001.0)


def test_verdict_comes_first_and_healthy_endpoints_are_one_line() -> None:
    text = render_report(_report(), term=Terminal(width=80))
    lines = text.splitlines()
    assert lines[0].startswith("✗ Diagnosis:") and "root cause: TCP_TIMEOUT (tcp) at r.io" in lines[0]
    assert "✓ auth.r.io:443 (realm) 1 steps passed" in text
    assert "r.io:443  (registry)" in text  # the failing endpoint keeps its tree
    assert all(len(ln) <= 80 or " " not in ln for ln in lines)  # only a URL may not be shorter


def test_consequences_fold_into_their_root_cause() -> None:
    root = kb.code(Code.DNS_PRIVATELINK_PUBLIC).finding(host="r.io", evidence={}, root_cause=True)
    after = replace(kb.code(Code.HTTP_FIREWALL_DENIED).finding(host="r.io", evidence={}, root_cause=False),
                    consequence_of="DNS_PRIVATELINK_PUBLIC@r.io")
    text = render_findings([after, root], term=Terminal(width=90))
    assert text.count("╭─") == 1 and "also  HTTP_FIREWALL_DENIED" in text
    verbose = render_findings([after, root], term=Terminal(width=90), verbose=True)
    assert verbose.count("╭─") == 2 and "consequence of DNS_PRIVATELINK_PUBLIC" in verbose


def test_explain_alternatives_follow_their_root_in_confidence_order() -> None:
    def f(code: Code, conf: float, alt: str | None = None) -> object:
        base = replace(kb.code(code).finding(host="r.io", evidence={}, root_cause=alt is None), confidence=conf)
        return replace(base, alternative_of=alt) if alt and hasattr(base, "alternative_of") else base

    root = f(Code.DNS_NXDOMAIN, 0.75)
    if not hasattr(root, "alternative_of"):
        return  # explain/ marks alternatives with Finding.alternative_of once it lands
    low, mid = f(Code.DNS_NODATA, 0.15, "DNS_NXDOMAIN@r.io"), f(Code.DNS_SERVFAIL, 0.35, "DNS_NXDOMAIN@r.io")
    text = render_findings([root, low, mid], keep_order=True, term=Terminal(width=100))  # type: ignore[list-item]
    order = [text.index(c) for c in ("DNS_NXDOMAIN · dns · root cause", "DNS_SERVFAIL · dns · alternative",
                                     "DNS_NODATA · dns · alternative")]
    assert order == sorted(order)


def test_fix_is_outside_the_panel_and_commands_stay_whole() -> None:
    f = kb.code(Code.HTTP_FIREWALL_DENIED).finding(host="myreg.azurecr.io", evidence={"client_ip": "1.2.3.4"},
                                                   extra={"registry": "myreg"})
    text = render_findings([f], term=Terminal(width=60))
    inside = [ln for ln in text.splitlines() if ln.startswith("│")]
    assert not any("az acr network-rule" in ln for ln in inside)
    spans = [s for s in f.fix.split("`")[1::2] if " " in s]
    flat = " ".join(text.split())
    assert spans and all(f"`{s}`" in flat for s in spans)
    for s in spans:  # never broken across lines
        assert any(f"`{s}`" in ln for ln in text.splitlines())


def test_wrap_keeps_backquoted_spans_and_is_linear() -> None:
    assert wrap("x `a b c d` y", 6, hard=False) == ["x", "`a b c d`", "y"]
    long = "`" + "a " * 20000  # an unclosed backquote: scanned once
    assert len("".join(wrap(long, 50))) > 0


def test_check_as_names_the_actor_in_the_verdict() -> None:
    r = _report()
    actor = Step("proxy", "actor", "pass", 0.0, "as dockerd: direct", evidence={"actor": "dockerd"})
    r = replace(r, endpoints=tuple(replace(e, steps=(actor, *e.steps)) for e in r.endpoints))
    assert render_report(r, term=Terminal(width=80)).startswith("✗ Diagnosis as dockerd: 1 problem(s)")
    assert render_report(_report(), term=Terminal(width=80)).startswith("✗ Diagnosis: 1 problem(s)")


def test_markdown_puts_the_diagnosis_first_and_nests_its_headings() -> None:
    from regdoctor.render.markdown import render_report as markdown

    heads = [ln for ln in markdown(_report()).splitlines() if ln.startswith("#")]
    assert heads[:3] == ["## regdoctor check `r.io`", "### Diagnosis", "#### 1. `TCP_TIMEOUT` — " +
                         kb.code(Code.TCP_TIMEOUT).title]
    assert heads.index("### Endpoints") < heads.index("#### `r.io:443` (registry)")
