"""``check --as``: the actor's own proxy setting named as the root cause (pure verdict code)."""

from __future__ import annotations

from regdoctor import diagnose
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Step
from regdoctor.runtime.asactor import plan, verdict
from regdoctor.runtime.model import Actor, Origin, Value
from regdoctor.target import parse_target

CONF = "/etc/containers/containers.conf"


def _podman(proxy: str, *, shell: dict[str, str] | None = None) -> Actor:
    return Actor(name="podman", label="podman", applies_to="pulls",
                 configured=tuple(Value(k, v, Origin("environment of this shell")) for k, v in (shell or {}).items()),
                 overrides=(Value("https_proxy", proxy, Origin(CONF, 2)),), edit_file=CONF,
                 apply="nothing (used by the next podman command)")


def _failed(code: Code, step_layer: str = "tcp") -> EndpointResult:
    return EndpointResult(host="r.example", port=443, role="registry", steps=(
        Step("dns", "resolve", "skip", 0.0, "proxy resolves"),
        Step(step_layer, "connect proxy", "fail", 1.0, "dial tcp 10.0.0.9:3999: connection refused", code,  # type: ignore[arg-type]
             {"proxy_address": "10.0.0.9:3999"})))


def _run(actor: Actor, endpoint: EndpointResult, shell: dict[str, str] | None = None) -> list:  # type: ignore[type-arg]
    p = plan(actor, [parse_target("r.example/app:1")], shell or {})
    return verdict(p, [endpoint], diagnose.diagnose([endpoint]))


def test_a_broken_proxy_from_the_actors_file_is_the_root_cause() -> None:
    fs = _run(_podman("http://u:secret@10.0.0.9:3999"), _failed(Code.PROXY_REFUSED))
    first = next(f for f in fs if f.root_cause)
    assert first.code == Code.RUNTIME_PROXY_FAILS
    assert first.evidence["where"] == f"{CONF}:2" and first.evidence["blocked_code"] == Code.PROXY_REFUSED
    assert f"{CONF}:2" in first.fix and "docker.service.d" not in first.fix
    assert "secret" not in first.cause + first.fix  # the proxy's password is never shown
    assert all(not f.root_cause for f in fs if f.code == Code.PROXY_REFUSED)


def test_only_failures_the_setting_explains() -> None:
    # a proxy that answers and refuses the tunnel is the proxy team's policy, not a wrong setting
    fs = _run(_podman("http://10.0.0.9:3128"), _failed(Code.PROXY_DENIED, "proxy"))
    assert Code.RUNTIME_PROXY_FAILS not in [f.code for f in fs]
    # a direct path (no proxy at all) is not this rule's either
    direct = Actor(name="podman", label="podman", applies_to="pulls", edit_file=CONF, apply="nothing")
    assert Code.RUNTIME_PROXY_FAILS not in [f.code for f in _run(direct, _failed(Code.TCP_REFUSED))]


def test_a_go_actor_is_not_told_how_python_would_read_its_environment() -> None:
    ok = EndpointResult(host="r.example", port=443, role="registry", steps=(
        Step("proxy", "decide", "warn", 0.0, "Go and Python differ", Code.PROXY_RULES_DIFFER,
             {"go_proxy": "a", "python_proxy": "b", "difference": "x"}),))
    fs = _run(_podman("http://10.0.0.9:3128", shell={"HTTPS_PROXY": "http://10.0.0.8:3128"}), ok)
    assert Code.PROXY_RULES_DIFFER not in [f.code for f in fs]
    shell = Actor(name="shell", label="this shell", applies_to="pulls", edit_file="~/.profile", apply="")
    assert Code.PROXY_RULES_DIFFER in [f.code for f in _run(shell, ok)]
