"""Real client output captured in the fault lab -> the expected code as the top finding.

The fixtures (tests/fixtures/client_errors/*.json) are what skopeo, the docker CLI, podman, buildah,
containerd's ctr and `docker pull`/`docker login` through a real dockerd printed for each lab fault,
stored by scripts/capture_client_errors.py. Where a text cannot tell the lab's fault
from another, the fixture names the fault in `also` (it must be among the ranked causes) and says why
in `note`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regdoctor.explain import explain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "client_errors"
CAPTURES = sorted(FIXTURES.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_corpus_covers_every_layer_and_both_clients() -> None:
    records = [load(p) for p in CAPTURES]
    assert len(records) >= 300
    assert {r["client"] for r in records} >= {"skopeo", "docker", "podman", "buildah", "ctr", "dockerd"}
    # the seed article's case: a proxy set for the docker client only, the daemon going direct
    seed = [r for r in records if r["case"].startswith("client-only-proxy")]
    assert {r["client"] for r in seed} == {"dockerd"} and len(seed) == 2
    codes = {r["expected_code"] for r in records}
    for prefix in ("DNS_", "TCP_", "TLS_", "PROXY_", "HTTP_", "AUTH_", "REGISTRY_", "DATA_"):
        assert any(c.startswith(prefix) for c in codes), prefix


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_captured_output_is_explained_with_its_code(path: Path) -> None:
    rec = load(path)
    assert rec["exit_code"] != 0 and rec["stderr"], "a capture is a failing run's real output"
    ex = explain(rec["stderr"] + rec["stdout"])
    ranked = [f.code for f in ex.findings]
    assert ranked, f"no known symptom in {rec['stderr']!r}"
    assert ranked[0] == rec["expected_code"], (ranked, rec["note"])
    for code in rec["also"]:
        assert code in ranked, (code, ranked)
    # the same output inside a log is found too (strict mode needs no registry hint it lacks)
    lines = ["starting", *rec["stderr"].splitlines(), "done"]
    assert explain_as_log("\n".join(lines)).findings[0].code == rec["expected_code"]


def explain_as_log(text: str) -> Any:
    from regdoctor.explain import explain_chunks

    return explain_chunks([text.encode()], strict=True)
