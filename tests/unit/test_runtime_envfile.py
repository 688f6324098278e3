"""``EnvironmentFile=`` parsing pinned state by state against systemd's own env-file parser.

The cases come from two sources:

- systemd's ``src/test/test-env-file.c`` (``env_file_1`` … ``env_file_5``, with the results its
  ``load_env_file`` asserts), updated for v254, where a comment ending in a backslash no longer
  swallows the next line (``COMMENT_ESCAPE`` in ``src/basic/env-file.c`` logs "treated as a non
  comment line since v254");
- one case per transition of ``parse_env_file_internal()``'s states (PRE_KEY, KEY, PRE_VALUE, VALUE,
  VALUE_ESCAPE, SINGLE_QUOTE_VALUE, DOUBLE_QUOTE_VALUE, DOUBLE_QUOTE_VALUE_ESCAPE, COMMENT,
  COMMENT_ESCAPE), including how input ending in each state is handled. systemd.exec(5) documents
  the user-facing rules: "#"/";" comments, a trailing backslash joins lines, single quotes literal,
  double quotes with ``\\``-escapes, unquoted leading and trailing whitespace stripped.
"""

from __future__ import annotations

import pytest
from timing import bounded

from regdoctor.runtime import syntax

# (file text, {name: value} systemd loads)
SYSTEMD_TEST_ENV_FILE = [
    ("a=a\nb=b\\\nc\nd=d\\\ne\\\nf\ng=g\\ \nh=h\ni=i\\", {"a": "a", "b": "bc", "d": "def", "g": "g ", "h": "h",
                                                         "i": "i"}),
    ("a=a\\\n", {"a": "a"}),
    ('#SPAMD_ARGS="-d --socketpath=/var/lib/bulwark/spamd \\\n#--nouser-config                                     '
     '\\\nnormal=line', {"normal": "line"}),
    ('# Generated\n\nHWMON_MODULES="coretemp f71882fg"\n\n# For compatibility reasons\n\nMODULE_0=coretemp\n'
     "MODULE_1=f71882fg", {"HWMON_MODULES": "coretemp f71882fg", "MODULE_0": "coretemp", "MODULE_1": "f71882fg"}),
    ("a=\nb=", {"a": "", "b": ""}),
]

STATES = [
    # PRE_KEY: blanks and empty lines skipped, "#" and ";" start comments
    (" \t\r\n  A=1", {"A": "1"}),
    ("; c\n# c\nA=1", {"A": "1"}),
    ("A=1\n\n \t\n", {"A": "1"}),
    # KEY: a line without "=" is dropped, trailing blanks of the key trimmed, input ending in a key dropped
    ("junk\nA=1\n", {"A": "1"}),
    ("A \t=1", {"A": "1"}),
    ("A=1\nB", {"A": "1"}),
    ("A\rB=1", {"B": "1"}),
    # PRE_VALUE: leading blanks skipped; an empty value at a newline or the end; quotes only start here
    ("A=  \t x", {"A": "x"}),
    ("A=\t\nB=2", {"A": "", "B": "2"}),
    ("A=  ", {"A": ""}),
    ("A=x'y'", {"A": "x'y'"}),
    ("A='x' \"y\"  'z'", {"A": "xyz"}),
    ("A=\\ x", {"A": " x"}),
    # VALUE: inner blanks kept, trailing blanks trimmed at a newline and at the end, "\r" ends the line
    ("A=a  b  \n", {"A": "a  b"}),
    ("A=a  b \t", {"A": "a  b"}),
    ("A=a b\rB=c", {"A": "a b", "B": "c"}),
    ("A=a # not a comment", {"A": "a # not a comment"}),
    ("A='q'tail  ", {"A": "qtail"}),
    # VALUE_ESCAPE: any character taken literally, an escaped blank survives trimming, escaped newlines eaten
    ("A=a\\  \n", {"A": "a "}),
    ("A=a \\\n  \nB=1", {"A": "a ", "B": "1"}),
    ("A=a\\\\b\\\"c", {"A": "a\\b\"c"}),
    ("A=a\\\r", {"A": "a"}),
    ("A=a\\", {"A": "a"}),
    ("A=\\", {"A": ""}),
    # SINGLE_QUOTE_VALUE: literal, newlines included, unterminated runs to the end
    ("A='a \\\" $b\n c  '", {"A": 'a \\" $b\n c  '}),
    ("A='open\nB=2", {"A": "open\nB=2"}),
    # DOUBLE_QUOTE_VALUE(_ESCAPE): \" \\ \` \$ unescaped, other escapes kept, escaped "\n" eaten
    ('A="a\\"b\\\\c\\`d\\$e"', {"A": 'a"b\\c`d$e'}),
    ('A="a\\qb\\\rc"', {"A": "a\\qb\\\rc"}),
    ('A="a\\\nb"', {"A": "ab"}),
    ('A="x  "  ', {"A": "x  "}),
    ('A="open \\', {"A": "open "}),
    ('A="open\nB=2', {"A": "open\nB=2"}),
    # COMMENT / COMMENT_ESCAPE: a backslash escapes one character; since v254 never the next line
    ("# a \\\nA=1", {"A": "1"}),
    ("# a \\x\nA=1", {"A": "1"}),
    ("# a \\\\\nA=1", {"A": "1"}),
    ("# a \\\rA=1", {"A": "1"}),
    ("# a \\", {}),
    # the last assignment of a name wins
    ("A=1\nA=2\n", {"A": "2"}),
]


def values(text: str) -> dict[str, str]:
    return {a.name: a.value for a in syntax.parse_env_file(text).assignments}


@pytest.mark.parametrize(("text", "expected"), SYSTEMD_TEST_ENV_FILE)
def test_systemd_test_env_file_cases(text: str, expected: dict[str, str]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(("text", "expected"), STATES)
def test_every_state_transition(text: str, expected: dict[str, str]) -> None:
    assert values(text) == expected


def test_names_systemd_rejects_are_dropped_with_the_reason() -> None:
    env = syntax.parse_env_file("export HTTPS_PROXY=http://p:3128\n1A=x\nA-B=y\nOK=1\n")
    assert [a.name for a in env.assignments] == ["OK"]
    assert [(d.text, d.line, d.reason) for d in env.dropped] == [
        ("export HTTPS_PROXY=http://p:3128", 1, "name"), ("1A=x", 2, "name"), ("A-B=y", 3, "name")]
    assert "export" in env.dropped[0].detail and env.dropped[1].detail == ""


def test_lines_are_those_of_the_key_and_quotes_are_noted() -> None:
    env = syntax.parse_env_file("\n# c\nA='x\ny'\nB=\\\n1\n  C=\"q\"\nD=plain")
    assert [(a.name, a.line, a.notes) for a in env.assignments] == [
        ("A", 3, ("quotes removed",)), ("B", 5, ()), ("C", 7, ("quotes removed",)), ("D", 8, ())]


def test_many_distinct_names_cost_linear_time() -> None:
    """Distinct names cost linear time (it was quadratic, each assignment searching the earlier ones:
    20,000 names took 4.4 s, a 1 MiB file minutes)."""
    names = [f"VAR_{i}" for i in range(20_000)]
    env_file = "".join(f"{n}=x\n" for n in names)
    env = bounded(lambda: syntax.parse_env_file(env_file), 0.5)
    assert len(env.assignments) == len(names) and env.assignments[-1].name == names[-1]
    unit = syntax.unit_lines("[Service]\nEnvironment=" + " ".join(f"{n}=x" for n in names) + "\n")
    env = bounded(lambda: syntax.parse_environment(unit, {}), 0.5)
    assert len(env.assignments) == len(names)


def test_a_reassigned_name_moves_to_the_end_as_systemd_replaces_it() -> None:
    assert [(a.name, a.value) for a in syntax.parse_env_file("A=1\nB=2\nA=3\n").assignments] == [
        ("B", "2"), ("A", "3")]
    lines = syntax.unit_lines("[Service]\nEnvironment=A=1 B=2\nEnvironment=A=3\n")
    assert [(a.name, a.value) for a in syntax.parse_environment(lines, {}).assignments] == [("B", "2"), ("A", "3")]
