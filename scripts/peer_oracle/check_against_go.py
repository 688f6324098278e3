"""Verify the transcribed peer tables, and regdoctor's port, against distribution/reference itself.

Needs Go (Debian: golang-go) and two checkouts, nothing from the network::

    python scripts/peer_oracle/check_against_go.py --reference DIR --digest DIR [--fuzz N] [--seed S]

``--reference``: a checkout of github.com/distribution/reference (the commit the tables name);
``--digest``: github.com/opencontainers/go-digest at v1.0.0 (what that module requires).

It builds the oracle (main.go, a copy of the peer's package plus reference_export.go) twice —
registering sha256 only, as the peer's test binary does, and sha256+sha512, as docker does — and
then:

1. runs every transcribed case's check (tests/unit/peer_reference.py) against the *Go* outcomes:
   all must pass, which shows the data and the checks say what the peer's tests say;
2. compares regdoctor.reference with Go, outcome by outcome (every function, every regexp), on every
   table input plus ``--fuzz`` generated strings (grammar pieces, and mutations of table inputs).

Prints one line per step and exits 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "tests" / "unit"), str(ROOT / "src")]

from peer_reference import CHECKS, load, python_impl  # noqa: E402

FILES = ("distribution_reference_test.json", "distribution_normalize_test.json", "distribution_regexp_test.json")
PIECES = ["a", "b", "z", "0", "9", "A", "Z", "-", "--", "_", "__", ".", "..", ":", "/", "//", "@", "[", "]",
          "::", "localhost", "docker.io", "index.docker.io", "library/", "sha256:", "sha384:", "sha512:", "md5:",
          "f" * 32, "f" * 64, "F" * 64, "0" * 96, "e" * 128, "5000", "65536", "%eth0", "\u0130", "\u212a", "\u00e9",
          " ", "\t", "\n", "ubuntu", "example.com", "fe80::1", "1.2.3.4", "x" * 130, "a" * 250, "+"]


def build(reference: Path, digest: Path, work: Path, tags: str) -> Path:
    mod = work / f"oracle-{tags or 'sha256'}"
    (mod / "reference").mkdir(parents=True)
    (mod / "digest").mkdir()
    for src in reference.glob("*.go"):
        if not src.name.endswith("_test.go"):
            text = src.read_text().replace('"github.com/opencontainers/go-digest"', '"oracle/digest"')
            (mod / "reference" / src.name).write_text(text)
    for src in digest.glob("*.go"):
        if not src.name.endswith("_test.go"):
            shutil.copy(src, mod / "digest" / src.name)
    shutil.copy(HERE / "reference_export.go", mod / "reference")
    shutil.copy(HERE / "main.go", mod)
    shutil.copy(HERE / "sha512.go", mod)
    (mod / "go.mod").write_text("module oracle\n\ngo 1.19\n")
    binary = mod / "oracle"
    env = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOCACHE": str(work / "gocache"), "HOME": str(work),
           "PATH": "/usr/bin:/bin:/usr/local/go/bin"}
    subprocess.run(["go", "build", *(["-tags", tags] if tags else []), "-o", str(binary), "."], cwd=mod, env=env,
                   check=True)
    return binary


def inputs_and_cases() -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    inputs: list[str] = []
    cases = []
    for name in FILES:
        for table in load(name)["tables"]:
            for case in table["cases"]:
                cases.append((table["test"], case))
                inputs += [case["input"], *(case[k] for k in ("Equivalent", "expected", "FullName") if k in case)]
    return inputs, cases


def fuzz(seeds: list[str], n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n // 2):
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))))
    alphabet = "aZ0.-_:/@[]%\u24f8"
    for _ in range(n // 10):  # any code point but surrogates (which JSON cannot carry to Go intact)
        out.append("".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF),
                                            rng.randint(0xE000, 0x10FFFF)])) for _ in range(rng.randint(0, 8))))
    for _ in range(n - n // 2 - n // 10):
        s = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            i = rng.randint(0, len(s))
            op = rng.randrange(3)
            if op == 0:
                s.insert(i, rng.choice(alphabet))
            elif s and op == 1:
                del s[min(i, len(s) - 1)]
            elif s:
                s[min(i, len(s) - 1)] = rng.choice(alphabet)
        out.append("".join(s))
    return out


def run(binary: Path, inputs: list[str]) -> dict[str, Any]:
    res = subprocess.run([str(binary)], input=json.dumps(sorted(set(inputs))), capture_output=True, text=True,
                         check=True)
    result: dict[str, Any] = json.loads(res.stdout)
    return result


def _unicode_version_only(s: str, fn: str, go: Any, mine: Any) -> bool:
    """Both refuse, one calling it upper case and one a bad format, over a non-ASCII letter: Go and
    Python ship different Unicode versions (``go version``; ``unicodedata.unidata_version``), so a
    letter added in between has a lower-case mapping in one only. Refusal itself never depends on it:
    the grammar is ASCII."""
    kinds = {"ErrNameContainsUppercase", "ErrReferenceInvalidFormat"}
    return (isinstance(go, dict) and isinstance(mine, dict) and {go.get("err"), mine.get("err")} == kinds
            and not s.isascii())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, required=True)
    ap.add_argument("--digest", type=Path, required=True)
    ap.add_argument("--fuzz", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    inputs, cases = inputs_and_cases()
    fuzzed = fuzz(inputs, args.fuzz, random.Random(args.seed))  # noqa: S311 - reproducible test inputs, not secrets
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for tags, algorithms in (("", frozenset({"sha256"})), ("sha512", frozenset({"sha256", "sha384", "sha512"}))):
            go = run(build(args.reference, args.digest, Path(tmp), tags), inputs + fuzzed)
            mine = python_impl(algorithms)
            if not tags:  # the tables were run with sha256 only
                go_impl = {fn: (lambda s, fn=fn, go=go: go[s][fn]) for fn in mine}
                bad = []
                for test, case in cases:
                    try:
                        CHECKS[test](case, go_impl)
                    except (AssertionError, KeyError) as exc:
                        bad.append((test, case["input"], exc))
                print(f"data vs Go ({len(cases)} cases): {len(cases) - len(bad)} agree")
                for b in bad[:20]:
                    print("  DATA DISAGREES WITH GO:", b)
                failed |= bool(bad)
            differ = [(s, fn, go[s][fn], mine[fn](s)) for s in sorted(set(inputs + fuzzed)) for fn in mine
                      if go[s][fn] != mine[fn](s)]
            unicode_only = [d for d in differ if _unicode_version_only(*d)]
            differ = [d for d in differ if d not in unicode_only]
            total = len(set(inputs + fuzzed))
            print(f"regdoctor.reference vs Go, algorithms {sorted(algorithms)}: {total} inputs x {len(mine)} "
                  f"functions, {len(differ)} outcomes differ (+{len(unicode_only)} only in the error kind of "
                  f"a non-ASCII letter whose case mapping Go's and Python's Unicode versions disagree on)")
            for d in differ[:20]:
                print("  DIFFERS:", json.dumps(d, ensure_ascii=False)[:400])
            failed |= bool(differ)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
