"""Print the README's codes table from the catalogue (paste it between the CODES markers)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from regdoctor import kb


def table() -> str:
    rows = ["| code | layer | severity | title | az acr check-health |", "|---|---|---|---|---|"]
    for c in kb.catalogue().values():
        rows.append(f"| `{c.code}` | {c.layer} | {c.severity} | {c.title} | {c.az_code or ''} |")
    return "\n".join(rows)


def main() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    new = re.sub(r"(<!-- CODES -->\n).*?(<!-- /CODES -->)", lambda m: m.group(1) + table() + "\n" + m.group(2),
                 text, flags=re.DOTALL)
    if "--write" in sys.argv:
        readme.write_text(new)
    else:
        print(table())


if __name__ == "__main__":
    main()
