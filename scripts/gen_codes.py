"""Generate ``src/regdoctor/kb/codes.py`` (the typed ``Code`` enum) from ``kb/codes.toml``.

The catalogue stays the one place where a code is defined; this module only mirrors its names
as a ``StrEnum`` so that mypy rejects a misspelled code and every use can be found.
``tests/unit/test_catalogue.py`` fails when the generated file is out of date.

    python scripts/gen_codes.py          # write the file
    python scripts/gen_codes.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "src" / "regdoctor" / "kb" / "codes.toml"
OUT = ROOT / "src" / "regdoctor" / "kb" / "codes.py"

HEADER = '''"""The catalogue's codes as a type. GENERATED from codes.toml by scripts/gen_codes.py: do not edit.

A ``Code`` is a ``str`` (``StrEnum``), so JSON output and comparisons with plain strings work
unchanged, while mypy rejects a code that the catalogue does not define::

    >>> Code.DNS_NXDOMAIN == "DNS_NXDOMAIN", f"{Code.TCP_TIMEOUT}"
    (True, 'TCP_TIMEOUT')
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code of the catalogue, in file order."""

    def __repr__(self) -> str:
        # shown as the string it is (in doctests, evidence dumps and test failures)
        return repr(self.value)

'''


def render() -> str:
    names = list(tomllib.loads(TOML.read_text(encoding="utf-8")))
    body = "".join(f'    {n} = "{n}"\n' for n in names)
    return HEADER + body + '\n\n__all__ = ["Code"]\n'


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/gen_codes.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
