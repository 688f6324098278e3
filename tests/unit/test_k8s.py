"""`regdoctor k8s`: the manifests validated offline against the Kubernetes OpenAPI schemas (kubernetes-validate,
strict: unknown fields are errors) for the three newest minor versions it bundles, their security invariants, that
their args parse with regdoctor's own commands, and the NPD plugin config against NPD's field names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from regdoctor.cli import cli

kv = pytest.importorskip("kubernetes_validate.utils")

ROOT = Path(__file__).resolve().parents[2]
REF = "myreg.azurecr.io/team/app:1.2"


def newest_versions(n: int = 3) -> list[str]:
    """The newest `n` Kubernetes minor versions whose schemas kubernetes-validate bundles."""
    minors = sorted({tuple(int(x) for x in v.split(".")[:2]) for v in kv.all_versions()})
    return [f"{a}.{b}.0" for a, b in minors[-n:]]


VERSIONS = newest_versions()
CASES = {
    "daemonset": ["daemonset", REF],
    "daemonset-pools-as-containerd": ["daemonset", REF, "other.io", "--pool", "np1", "--pool", "np2", "--as",
                                      "containerd", "--podmonitor", "--namespace", "diag"],
    "daemonset-k3s-no-node-ca": ["daemonset", REF, "--as", "k3s", "--node-ca", "none", "--no-namespace"],
    "job-node": ["job", REF, "--node", "aks-np1-12345678-vmss000003"],
    "job-pool-as-crio": ["job", REF, "--pool", "gpu", "--as", "crio", "--pool-label", "eks.amazonaws.com/nodegroup"],
}


def manifests(args: list[str]) -> list[dict[str, Any]]:
    res = CliRunner().invoke(cli, ["k8s", *args, "--image", "registry.example/regdoctor:0.1.0"])
    assert res.exit_code == 0, res.output
    return [d for d in yaml.safe_load_all(res.stdout) if d is not None]


def test_three_versions_are_bundled() -> None:
    assert len(VERSIONS) == 3, VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_manifests_validate_strict(case: str, version: str) -> None:
    docs = manifests(CASES[case])
    checked = 0
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD (Prometheus Operator): not in the Kubernetes schemas
        kv.validate(doc, version, strict=True)
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("version", VERSIONS)
def test_the_validator_is_live(version: str) -> None:
    """A field typo and a wrong type are refused: a validation that cannot fail proves nothing."""
    ds = next(d for d in manifests(CASES["daemonset"]) if d["kind"] == "DaemonSet")
    typo = copy.deepcopy(ds)
    typo["spec"]["template"]["spec"]["hostNetwrk"] = True
    wrong = copy.deepcopy(ds)
    wrong["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "9737"
    for bad in (typo, wrong):
        with pytest.raises(kv.ValidationError):
            kv.validate(bad, version, strict=True)


def pod_specs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("DaemonSet", "Job")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_invariants(case: str) -> None:
    docs = manifests(CASES[case])
    kinds = [d["kind"] for d in docs]
    assert not {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} & set(kinds)
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    ns = next((d for d in docs if d["kind"] == "Namespace"), None)
    assert (ns is None) == ("--no-namespace" in CASES[case])
    if ns is not None:
        assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    runtime = "--as" in CASES[case]
    for spec in pod_specs(docs):
        assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "Default"
        assert spec["automountServiceAccountToken"] is False and spec["serviceAccountName"] == sa["metadata"]["name"]
        assert spec["tolerations"] == [{"operator": "Exists"}]
        assert spec["nodeSelector"]["kubernetes.io/os"] == "linux"
        assert spec.get("hostPID", False) is runtime
        c = spec["containers"][0]
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["capabilities"].get("add", []) == (["SYS_PTRACE"] if runtime else [])
        assert spec["securityContext"]["runAsNonRoot"] is (not runtime)
        assert c["resources"]["requests"] and c["resources"]["limits"]
        for v in spec["volumes"]:
            if "hostPath" in v:  # never a type that lets the kubelet create a missing path on the node
                assert v["hostPath"]["type"] in ("File", "Directory"), v
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        for v in spec["volumes"]:
            if "hostPath" in v:
                assert mounts[v["name"]]["readOnly"] is True
        assert any(v.get("hostPath", {}).get("path") == "/etc/resolv.conf" for v in spec["volumes"])
        # $(VAR) in args is expanded by the kubelet only for variables the container defines
        defined = {e["name"] for e in c["env"]}
        for a in c["args"]:
            for var in (p.split(")")[0] for p in a.split("$(")[1:]):
                assert var in defined, (var, a)
    for d in docs:
        name = d["metadata"]["name"]
        assert len(name) <= 63 and name == name.lower()
        for k, v in d["metadata"].get("labels", {}).items():
            assert len(v) <= 63 and len(k.split("/")[-1]) <= 63


def test_one_daemonset_per_pool_with_its_selector_and_label() -> None:
    docs = manifests(CASES["daemonset-pools-as-containerd"])
    sets = [d for d in docs if d["kind"] == "DaemonSet"]
    assert [d["metadata"]["name"] for d in sets] == ["regdoctor-np1", "regdoctor-np2"]
    for d, pool in zip(sets, ("np1", "np2"), strict=True):
        spec = d["spec"]["template"]["spec"]
        assert spec["nodeSelector"]["kubernetes.azure.com/agentpool"] == pool
        args = spec["containers"][0]["args"]
        assert f"pool={pool}" in args and args[args.index("--as") + 1] == "containerd"
        assert d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        assert d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9737"
        assert spec["containers"][0]["ports"] == [{"name": "metrics", "containerPort": 9737, "protocol": "TCP"}]
    pm = next(d for d in docs if d["kind"] == "PodMonitor")
    assert pm["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


def _expand(args: list[str]) -> list[str]:
    return [a.replace("$(NODE_NAME)", "aks-np1-0").replace("$(NODE_ZONE)", "") for a in args]


@pytest.mark.parametrize("case", ["daemonset", "job-node", "daemonset-k3s-no-node-ca",
                                  "daemonset-pools-as-containerd", "job-pool-as-crio"])
def test_args_parse_with_regdoctor_own_commands(case: str) -> None:
    """The container's args are real options of `serve` / `check`, --as and --root included."""
    from regdoctor.cli.check import check
    from regdoctor.cli.serve import serve

    for spec in pod_specs(manifests(CASES[case])):
        args = _expand(spec["containers"][0]["args"])
        cmd: click.Command = serve if args[0] == "serve" else check
        ctx = cmd.make_context(args[0], args[1:])
        assert REF in ctx.params["refs"]
        if "--as" in args:
            assert ctx.params["as_actor"] == args[args.index("--as") + 1] and ctx.params["root_dir"] == "/host"


def test_job_needs_exactly_one_of_node_or_pool() -> None:
    for args in (["job", REF], ["job", REF, "--node", "n1", "--pool", "p"], ["job", REF, "--pool", "a", "--pool", "b"]):
        res = CliRunner().invoke(cli, ["k8s", *args])
        assert res.exit_code == 2 and "Traceback" not in res.output


@pytest.mark.parametrize("args", [["daemonset", REF, "--as", "kubelet"], ["daemonset", REF, "--namespace", "Bad_NS"],
                                  ["daemonset", REF, "--node-ca", "relative.crt"], ["daemonset", REF, "--pool", "!!"]])
def test_bad_options_exit_2(args: list[str]) -> None:
    res = CliRunner().invoke(cli, ["k8s", *args])
    assert res.exit_code == 2 and res.output.count("\n") <= 2 and "Traceback" not in res.output


# node-problem-detector: pkg/custompluginmonitor/types (config.go, types.go) json field names
NPD_TOP = {"plugin", "pluginConfig", "source", "conditions", "rules", "metricsReporting"}
NPD_GLOBAL = {"invoke_interval", "timeout", "max_output_length", "concurrency",
              "enable_message_change_based_condition_update", "skip_initial_status"}
NPD_RULE = {"type", "condition", "reason", "path", "args", "timeout", "invoke_interval"}


def _seconds(text: str) -> float:
    assert text.endswith("s")
    return float(text[:-1])


def test_npd_config_matches_npd_contract() -> None:
    res = CliRunner().invoke(cli, ["k8s", "npd-config", REF, "--timeout", "3", "--interval", "120"])
    assert res.exit_code == 0, res.output
    cfg = json.loads(res.output)
    assert set(cfg) <= NPD_TOP and cfg["plugin"] == "custom" and set(cfg["pluginConfig"]) <= NPD_GLOBAL
    defaults = {c["type"] for c in cfg["conditions"]}
    for rule in cfg["rules"]:
        assert set(rule) <= NPD_RULE and rule["type"] in ("temporary", "permanent")
        if rule["type"] == "permanent":  # NPD refuses a permanent rule whose condition has no default
            assert rule["condition"] in defaults
        assert _seconds(rule["timeout"]) <= _seconds(cfg["pluginConfig"]["timeout"])
        assert rule["path"].startswith("/")
        from regdoctor.cli.check import check

        ctx = check.make_context("check", rule["args"][1:])
        assert ctx.params["npd"] is True and ctx.params["npd_max"] == cfg["pluginConfig"]["max_output_length"]
        # the plugin's own worst case (fan-out bound: timeout x 20 + 5 s) fits NPD's timeout
        assert ctx.params["timeout"] * 20 + 5 < _seconds(rule["timeout"])


def test_containerfile_builds_from_the_wheel() -> None:
    text = (ROOT / "Containerfile").read_text()
    assert "COPY dist/regdoctor-*.whl" in text and "pip install" in text
    assert "USER 65532:65532" in text and "EXPOSE 9737" in text and 'ENTRYPOINT ["regdoctor"]' in text


def test_dash_n_is_the_registry_name_as_everywhere_else() -> None:
    # -n NAME means NAME.azurecr.io on every regdoctor command (az acr -n); the namespace is --namespace
    docs = manifests(["daemonset", "-n", "myacr", "--namespace", "ops"])
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    assert ds["metadata"]["namespace"] == "ops"
    assert "myacr.azurecr.io" in ds["spec"]["template"]["spec"]["containers"][0]["args"]
    npd = json.loads(CliRunner().invoke(cli, ["k8s", "npd-config", "-n", "myacr"]).output)
    assert "myacr.azurecr.io" in json.dumps(npd)
    res = CliRunner().invoke(cli, ["k8s", "job"])
    assert res.exit_code == 2 and "REF or -n NAME" in res.output
