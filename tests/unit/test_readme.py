"""The README's two set-up commands are real: CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from regdoctor import kb

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    command = ci_lines[-1]
    assert command in _blocks(), "the last line of .ci/run must be one of the README's sh blocks"
    assert "pytest" in command and "mypy --strict" in command and "ruff check" in command


def test_readme_has_a_main_job_command() -> None:
    assert any("regdoctor check" in b and "pip install" in b for b in _blocks())


def test_readme_codes_table_lists_every_code() -> None:
    missing = [c for c in kb.catalogue() if f"`{c}`" not in README]
    assert not missing, f"README codes table lacks {missing}; run python scripts/codes_table.py"


def _requirement_names() -> set[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_every_dependency_is_pinned_in_the_constraints_file() -> None:
    """A fresh machine must get the versions the suite was run with (README: pip -c constraints.txt)."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line}"
            pins[name.lower().replace("_", "-")] = version
    missing = _requirement_names() - set(pins)
    assert not missing, f"add exact pins to constraints.txt for {sorted(missing)}"
    assert all("-c constraints.txt" in b for b in _blocks() if "pip install" in b)


def test_nothing_in_the_repository_points_outside_it() -> None:
    suffixes = {".py", ".md", ".toml", ".txt", ".cfg", ".json", ".yml", ".yaml", ""}
    skip = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    offenders = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or path.name == "test_readme.py" or skip & set(path.parts):
            continue
        if path.suffix in suffixes and path.stat().st_size < 2_000_000:
            text = path.read_text(errors="replace")
            if "../shared" in text or "/work/shared" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
