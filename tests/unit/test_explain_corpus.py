"""The real-world explain corpus (tests/data/explain/real_world/corpus.jsonl) is well formed.

Shape only: every field present and of its allowed values, ids unique, the split a function of the
thread, the minimum spread over layers and ACR. Accuracy is scored by
scripts/score_explain_corpus.py, not asserted here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from regdoctor import kb

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "explain" / "real_world" / "corpus.jsonl"

LAYERS = {"dns", "tcp", "proxy", "tls", "http", "auth", "registry", "data"}
CLIENTS = {"docker", "dockerd", "containerd", "ctr", "nerdctl", "crictl", "kubelet", "cri-o", "podman",
           "buildah", "skopeo", "helm", "oras", "crane", "kaniko", "buildkit", "github-actions", "az",
           "ecr-credential-helper", "gcloud", "jenkins", "tekton", "gitlab-runner", "argocd", "jib", "trivy", "other"}
REQUIRED = {"id": str, "text": str, "source": str, "client": str, "layer": str, "code": str, "acr": bool,
            "cause": str, "thread": str, "split": str}
OPTIONAL = {"proposed_code": str}
MIN_TOTAL, MIN_PER_LAYER, MIN_ACR = 220, 15, 10

SOURCE = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/[\w.-]+#[0-9]+|https?://\S+)$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CODE_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# Secret shapes that must have been redacted as *** (tokens, keys, basic-auth in URLs).
SECRETS = re.compile(r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}"
                     r"|Authorization: (?:Basic|Bearer) [A-Za-z0-9+/=._-]{16,}")


def split_of(thread: str) -> str:
    """The corpus split rule: by thread, about 40% held back."""
    return "heldout" if int(hashlib.sha256(thread.encode()).hexdigest(), 16) % 5 in (0, 1) else "tune"


def entries() -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {n} is empty"
        entry = json.loads(line)
        assert isinstance(entry, dict), f"line {n} is not an object"
        out.append(entry)
    return out


ENTRIES = entries()
CODES = kb.catalogue()


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.get("id", "?") for e in ENTRIES])
def test_every_entry_has_its_fields_with_allowed_values(entry: dict[str, Any]) -> None:
    assert set(entry) <= set(REQUIRED) | set(OPTIONAL), f"unknown fields {set(entry) - set(REQUIRED) - set(OPTIONAL)}"
    for field, kind in {**REQUIRED, **{k: v for k, v in OPTIONAL.items() if k in entry}}.items():
        assert isinstance(entry.get(field), kind), f"{field} missing or not {kind.__name__}"
        if kind is str:
            assert entry[field].strip(), f"{field} is empty"
    assert SLUG.match(entry["id"]), entry["id"]
    assert SOURCE.match(entry["source"]), entry["source"]
    assert entry["client"] in CLIENTS
    assert entry["layer"] in LAYERS
    assert entry["code"] in CODES, f"{entry['code']} is not in kb/codes.toml"
    assert entry["split"] == split_of(entry["thread"]), "split does not follow the thread rule"
    assert len(entry["text"]) <= 8000, "one message or a few log lines, not a whole log"
    assert not SECRETS.search(entry["text"]), "a secret-looking string must be redacted as ***"
    if "azurecr.io" in entry["text"].lower():
        assert entry["acr"], "a text about an azurecr.io registry is an ACR text"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.get("id", "?") for e in ENTRIES])
def test_code_and_layer_agree_unless_a_new_code_is_proposed(entry: dict[str, Any]) -> None:
    proposed = entry.get("proposed_code")
    if proposed is None:
        assert CODES[entry["code"]].layer == entry["layer"], (
            f"{entry['code']} is a {CODES[entry['code']].layer} code, the entry says {entry['layer']}")
    else:
        assert CODE_NAME.match(proposed), proposed
        assert proposed not in CODES, f"{proposed} exists: use it as the code"


def test_ids_are_unique() -> None:
    dup = [k for k, v in Counter(e["id"] for e in ENTRIES).items() if v > 1]
    assert not dup


def test_no_text_twice_in_one_thread() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for e in ENTRIES:
        norm = " ".join(e["text"].split())
        assert norm not in seen[e["thread"]], f"{e['id']} repeats a text of its thread"
        seen[e["thread"]].add(norm)


def test_every_thread_lies_in_one_split() -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for e in ENTRIES:
        splits[e["thread"]].add(e["split"])
    assert all(len(s) == 1 for s in splits.values())


def test_the_corpus_meets_its_minimums() -> None:
    layers = Counter(e["layer"] for e in ENTRIES)
    assert len(ENTRIES) >= MIN_TOTAL
    assert {la: n for la, n in layers.items() if n < MIN_PER_LAYER} == {}
    assert set(layers) == LAYERS
    assert sum(e["acr"] for e in ENTRIES) >= MIN_ACR
    assert len({e["client"] for e in ENTRIES}) >= 12, "spread over clients"
    assert {e["split"] for e in ENTRIES} == {"tune", "heldout"}


def test_no_text_is_taken_from_regdoctors_own_test_data() -> None:
    own = [ROOT / "src" / "regdoctor" / "kb" / "symptoms.toml", ROOT / "tests" / "unit" / "data" / "explain"]
    blob = "\n".join(p.read_text(encoding="utf-8") for f in own
                     for p in ([f] if f.is_file() else sorted(f.rglob("*")) if f.is_dir() else []) if p.is_file())
    # the lab captures are real clients' output: a generic message (`received unexpected HTTP status: 503
    # Service Unavailable`) may coincide with a user's; only lines naming the lab would be copies
    lab = ("lab.test", "10.200.", "$LAB")
    blob += "\n".join(line for p in sorted((ROOT / "tests" / "fixtures").rglob("*.json"))
                      for line in p.read_text(encoding="utf-8").splitlines() if any(m in line for m in lab))
    copied = [e["id"] for e in ENTRIES for line in e["text"].splitlines() if len(line) > 80 and line in blob]
    assert not copied
