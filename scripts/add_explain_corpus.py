"""Append new real-world texts to the explain corpus: the split from the thread rule, no near-duplicates.

Input: a JSONL file of new entries with the corpus fields except ``thread`` and ``split`` (``thread``
defaults to ``source``; ``split`` is always computed, never chosen). Each entry is checked like the
corpus shape test (fields, layer, client, code in the catalogue) and against every text already in
the corpus: the same text, or one nearly the same once hosts, digits and digests are blurred
(``difflib`` ratio >= 0.9), is refused. The report names the split of every entry and, for a refused
one, the *tune* entry it repeats (a held-out entry is never named: its text is not to be looked at).

    python scripts/add_explain_corpus.py new.jsonl            # check only
    python scripts/add_explain_corpus.py new.jsonl --write    # append the accepted ones
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "explain" / "real_world" / "corpus.jsonl"
sys.path.insert(0, str(ROOT / "src"))

from regdoctor import kb  # noqa: E402

LAYERS = {"dns", "tcp", "proxy", "tls", "http", "auth", "registry", "data"}
FIELDS = ("id", "text", "source", "client", "layer", "code", "acr", "cause")
NEAR = 0.9
_BLUR = re.compile(r"sha256:[0-9a-f]{6,64}|[0-9a-f]{12,}|\d+|[a-z0-9-]+(?:\.[a-z0-9-]+)+")


def split_of(thread: str) -> str:
    """The corpus split rule (see the corpus README): by thread, about 40% held back."""
    return "heldout" if int(hashlib.sha256(thread.encode()).hexdigest(), 16) % 5 in (0, 1) else "tune"


def blur(text: str) -> str:
    """The text with what varies between users' pastes of one message (hosts, numbers) blurred."""
    return _BLUR.sub("#", " ".join(text.lower().split()))


def problems(entry: dict[str, Any], clients: set[str]) -> list[str]:
    out = [f"missing {f}" for f in FIELDS if f not in entry]
    if out:
        return out
    codes = kb.catalogue()
    if entry["layer"] not in LAYERS:
        out.append(f"layer {entry['layer']}")
    if entry["client"] not in clients:
        out.append(f"client {entry['client']} (add it to the shape test's CLIENTS)")
    if entry["code"] not in codes:
        out.append(f"code {entry['code']} not in the catalogue")
    elif "proposed_code" not in entry and codes[entry["code"]].layer != entry["layer"]:
        out.append(f"{entry['code']} is a {codes[entry['code']].layer} code")
    if "azurecr.io" in entry["text"].lower() and not entry["acr"]:
        out.append("an azurecr.io text is an ACR text")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("new", type=Path)
    ap.add_argument("--write", action="store_true", help="append the accepted entries to the corpus")
    args = ap.parse_args(argv)
    old = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    shape = (ROOT / "tests" / "unit" / "test_explain_corpus.py").read_text(encoding="utf-8")
    clients = set(re.findall(r'"([a-z-]+)"', shape.split("CLIENTS = {", 1)[1].split("}", 1)[0]))
    ids = {e["id"] for e in old}
    kept = [(e, blur(e["text"])) for e in old]
    accepted = []
    for n, line in enumerate(args.new.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        entry = json.loads(line)
        entry.setdefault("thread", entry.get("source", ""))
        entry["split"] = split_of(entry["thread"])
        why = problems(entry, clients)
        if entry.get("id") in ids:
            why.append("id exists")
        if any(o["thread"] == entry["thread"] for o, _ in kept):
            why.append("thread already in the corpus (one text per thread and cause)")
        b = blur(entry.get("text", ""))
        for other, ob in kept:
            if difflib.SequenceMatcher(None, b, ob, autojunk=False).ratio() >= NEAR:
                who = other["id"] if other["split"] == "tune" else "a held-out entry"
                why.append(f"near-duplicate of {who}")
                break
        status = "refused: " + "; ".join(why) if why else "ok"
        print(f"{n:>4} {entry['split']:<8} {entry.get('layer', '?'):<8} {entry.get('id', '?'):<60} {status}")
        if not why:
            order = (*FIELDS[:6], *(["proposed_code"] if "proposed_code" in entry else []), "acr", "cause",
                     "thread", "split")
            accepted.append({k: entry[k] for k in order})
            ids.add(entry["id"])
            kept.append((entry, b))
    if args.write and accepted:
        with CORPUS.open("a", encoding="utf-8") as fh:
            for e in accepted:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(f"{len(accepted)} accepted" + (" and appended" if args.write else " (check only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
