"""Score ``regdoctor explain`` on the real-world error corpus, per split and per layer.

The corpus (tests/data/explain/real_world/corpus.jsonl, described in the README beside it) holds
error texts users pasted into public threads, each labelled with the root-cause layer and code the
thread established. This script runs the explain Python API on every text and reports, per split
(tune / heldout) and per layer:

- count
- top1_layer: the first finding's layer is the corpus layer
- layer_found: the corpus layer is the layer of any finding
- top1_code: the first finding's code is the corpus code
- no_finding: explain returned no finding at all

Held-back texts are scored, never tuned on (see the corpus README).

    python scripts/score_explain_corpus.py            # table
    python scripts/score_explain_corpus.py --json     # machine output
    python scripts/score_explain_corpus.py --misses   # every text whose first finding has the wrong layer
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regdoctor.explain import explain

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "explain" / "real_world" / "corpus.jsonl"
SPLITS = ("tune", "heldout")
LAYERS = ("dns", "tcp", "proxy", "tls", "http", "auth", "registry", "data")
METRICS = ("top1_layer", "layer_found", "top1_code", "no_finding")


@dataclass(frozen=True)
class Outcome:
    """What explain said about one corpus text, next to what the corpus expects."""

    id: str
    split: str
    layer: str
    code: str
    got_layers: tuple[str, ...]
    got_codes: tuple[str, ...]

    @property
    def top1_layer(self) -> bool:
        return bool(self.got_layers) and self.got_layers[0] == self.layer

    @property
    def layer_found(self) -> bool:
        return self.layer in self.got_layers

    @property
    def top1_code(self) -> bool:
        return bool(self.got_codes) and self.got_codes[0] == self.code

    @property
    def no_finding(self) -> bool:
        return not self.got_codes


def load(path: Path) -> list[dict[str, Any]]:
    """The corpus entries, one dict per non-empty line.

    >>> load(CORPUS)[0]["layer"] in LAYERS
    True
    """
    entries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError(f"{path}:{n}: not a JSON object")
            entries.append(entry)
    return entries


def run(entries: Iterable[dict[str, Any]]) -> list[Outcome]:
    """Explain every entry's text (offline, in process) and keep the findings' layers and codes."""
    outcomes = []
    for e in entries:
        findings = explain(e["text"]).findings
        outcomes.append(Outcome(id=e["id"], split=e["split"], layer=e["layer"], code=e["code"],
                                got_layers=tuple(f.layer for f in findings),
                                got_codes=tuple(f.code for f in findings)))
    return outcomes


def rates(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Count and the four rates (0..1, rounded) over a group of outcomes."""
    n = len(outcomes)
    row: dict[str, Any] = {"count": n}
    for m in METRICS:
        row[m] = round(sum(getattr(o, m) for o in outcomes) / n, 3) if n else None
    return row


def summary(outcomes: Sequence[Outcome], splits: Sequence[str] = (*SPLITS, "all")) -> dict[str, Any]:
    """Per split: the overall rates and the rates per layer; "all" is the whole corpus."""
    doc: dict[str, Any] = {}
    for split in splits:
        part = [o for o in outcomes if split in ("all", o.split)]
        doc[split] = {"overall": rates(part),
                      "layers": {layer: rates([o for o in part if o.layer == layer]) for layer in LAYERS}}
    return doc


def misses(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Every text whose first finding is not on the corpus layer (no finding included)."""
    return [{"id": o.id, "split": o.split, "expected": f"{o.layer}/{o.code}",
             "got": f"{o.got_layers[0]}/{o.got_codes[0]}" if o.got_codes else "-",
             "all": [f"{la}/{c}" for la, c in zip(o.got_layers, o.got_codes, strict=True)]}
            for o in outcomes if not o.top1_layer]


def _pct(v: float | None) -> str:
    return "   -" if v is None else f"{100 * v:4.0f}"


def table(doc: dict[str, Any]) -> str:
    """The summary as a fixed-width text table, one block per split."""
    lines = []
    head = f"{'layer':<9} {'n':>4}  {'top1 layer%':>11} {'layer found%':>12} {'top1 code%':>10} {'none%':>6}"
    for split in doc:
        lines += [f"== {split}", head]
        rows = [*doc[split]["layers"].items(), ("overall", doc[split]["overall"])]
        for name, r in rows:
            lines.append(f"{name:<9} {r['count']:>4}  {_pct(r['top1_layer']):>11} {_pct(r['layer_found']):>12} "
                         f"{_pct(r['top1_code']):>10} {_pct(r['no_finding']):>6}")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="corpus JSONL (default: the repository's)")
    ap.add_argument("--split", choices=SPLITS, help="score only this split")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--misses", action="store_true", help="list the texts whose first finding has the wrong layer")
    args = ap.parse_args(argv)
    try:
        entries = load(args.corpus)
    except (OSError, ValueError) as err:
        print(f"score_explain_corpus: cannot read the corpus: {err}", file=sys.stderr)
        return 2
    if args.split:
        entries = [e for e in entries if e.get("split") == args.split]
    outcomes = run(entries)
    doc = summary(outcomes, (args.split,) if args.split else (*SPLITS, "all"))
    if args.json:
        out: dict[str, Any] = {"schema": 1, "tool": "regdoctor", "kind": "explain-corpus-score",
                               "corpus": str(args.corpus), **doc}
        if args.misses:
            out["misses"] = misses(outcomes)
        print(json.dumps(out, indent=2))
        return 0
    print(table(doc))
    if args.misses:
        for m in misses(outcomes):
            print(f"{m['split']:<8} {m['id']:<55} expected {m['expected']:<38} got {m['got']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
