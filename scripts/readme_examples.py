"""Regenerate (--write) or check the README's example outputs from the fault lab (needs root).

Usage:  sudo python scripts/readme_examples.py [--write]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lab.lab import Lab, missing_prerequisites
from lab.readme import README, examples, normalise, rewrite


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite README.md with the lab's output")
    args = ap.parse_args()
    if problems := missing_prerequisites():
        print("cannot run the lab: " + "; ".join(problems), file=sys.stderr)
        return 2
    text = README.read_text()
    with Lab() as lab:
        new = rewrite(lab, text)
    if args.write:
        README.write_text(new)
        print(f"README.md: {len(examples(new))} example(s) regenerated")
        return 0
    pairs = zip(examples(text), examples(new), strict=True)
    stale = [a.args for a, b in pairs if normalise(a.body) != normalise(b.body)]
    for s in stale:
        print(f"stale: {s}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
