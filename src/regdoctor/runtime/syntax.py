"""Pure parsers for the files runtimes read their settings from: systemd units, env files, JSON, TOML.

Strategy
--------
A proxy setting is only as good as the parser that reads it, and the mistakes users make live in
the differences between parsers (a ``%`` that systemd eats, quotes that an env file strips but a
unit's inner quotes keep). So each format is parsed with the rules of the program that reads it,
transcribed from its source, and every value keeps the file and line it came from:

- systemd unit files (``systemd/src/shared/conf-parser.c``): ``[Section]`` headers, ``#``/``;``
  comments, backslash line continuation, repeated keys; ``Environment=`` words split with
  ``extract_first_word(EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE)`` (quotes anywhere in a word, C escapes,
  unbalanced quotes drop the rest of the line), then unit specifiers resolved per word (``%%`` is
  ``%``; an unknown specifier drops that assignment, which is how ``p%40ss`` silently loses a
  proxy); an empty ``Environment=`` resets the list.
- env files (``systemd/src/basic/env-file.c``, the state machine behind ``EnvironmentFile=``):
  single quotes literal, double quotes with ``\\``-escapes of ``"\\`$`` only, quotes may start
  mid-value, unquoted trailing blanks trimmed, no specifiers, keys that are not valid names (such
  as ``export FOO``) dropped.
- JSON with a size and depth limit (a hostile file never exhausts memory); TOML with ``tomllib``.

All functions here take text and return values; reading files is ``source.py``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regdoctor import safejson

MAX_FILE = 1024 * 1024  # no configuration file of interest is larger; bigger ones are refused
MAX_JSON_DEPTH = 64
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WS = " \t\n\r"
# Unit specifiers systemd knows (systemd.unit(5) "Specifiers"); any other letter after % is an error.
_SPECIFIERS = frozenset("aAbBCdEfgGhHiIjJlLmMnNoPpqsStTuUvVwWyY%")


@dataclass(frozen=True)
class Line:
    """One ``key=value`` of a unit file, after continuation lines are joined."""

    section: str
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Assignment:
    """One environment variable assignment as the reading program sees it."""

    name: str
    value: str
    line: int
    #: what the parser did to the text on the way (``%%`` → ``%``, quotes removed, …): for findings
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    """An assignment the reading program ignores, and why (a finding, usually)."""

    text: str
    line: int
    reason: str  # "specifier" | "quoting" | "name" | "escape"
    detail: str = ""


@dataclass
class EnvResult:
    assignments: list[Assignment] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    reset_at: int | None = None  # the line of an ``Environment=`` that cleared earlier ones


# ---------------------------------------------------------------------------------------------- units


def unit_lines(text: str) -> list[Line]:
    """The ``key=value`` lines of a unit file, with their section and first line number.

    >>> [(x.section, x.key, x.value) for x in unit_lines("[Service]\\nEnvironment=A=1 \\\\\\n  B=2\\n")]
    [('Service', 'Environment', 'A=1  B=2')]
    """
    out: list[Line] = []
    section = ""
    pending: list[str] = []
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        if pending:
            # a comment inside a continued line is skipped (conf-parser.c), the continuation goes on
            if raw.lstrip().startswith(("#", ";")):
                continue
            piece = raw.strip()  # conf-parser.c strips every physical line
        else:
            piece = raw.strip()
            if not piece or piece.startswith(("#", ";")):
                continue
            start = no
        if piece.endswith("\\") and not piece.endswith("\\\\"):
            pending.append(piece[:-1] + " ")
            continue
        full = "".join(pending) + piece
        pending = []
        full = full.strip()
        if full.startswith("[") and full.endswith("]"):
            section = full[1:-1]
            continue
        key, eq, value = full.partition("=")
        if eq:
            out.append(Line(section, key.strip(), value.strip(), start))
    if pending:
        full = "".join(pending).strip()
        key, eq, value = full.partition("=")
        if eq:
            out.append(Line(section, key.strip(), value.strip(), start))
    return out


def _cunescape_one(s: str, i: int) -> tuple[str, int] | None:
    """systemd's cunescape_one: the escape starting after the backslash at ``s[i]``."""
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
              '"': '"', "'": "'", "s": " "}
    if i >= len(s):
        return None
    c = s[i]
    if c in simple:
        return simple[c], 1
    if c == "x" and re.match(r"[0-9a-fA-F]{2}", s[i + 1:i + 3]):
        return chr(int(s[i + 1:i + 3], 16)), 3
    if c in "01234567" and re.match(r"[0-7]{3}", s[i:i + 3]):
        return chr(int(s[i:i + 3], 8)), 3
    if c == "u" and re.match(r"[0-9a-fA-F]{4}", s[i + 1:i + 5]):
        return chr(int(s[i + 1:i + 5], 16)), 5
    if c == "U" and re.match(r"[0-9a-fA-F]{8}", s[i + 1:i + 9]):
        return chr(min(int(s[i + 1:i + 9], 16), 0x10FFFF)), 9
    return None


def split_words(value: str) -> tuple[list[tuple[str, bool]], str | None]:
    """``extract_first_word`` with EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE, repeated over a value.

    Returns the words (each with "had quotes") and an error (``"quoting"`` when a quote is left
    open: systemd then ignores the rest of the line).

    >>> split_words('"HTTPS_PROXY=http://p:3128" NO_PROXY=a,b')[0]
    [('HTTPS_PROXY=http://p:3128', True), ('NO_PROXY=a,b', False)]
    """
    words: list[tuple[str, bool]] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in _WS:
            i += 1
        if i >= n:
            return words, None
        buf: list[str] = []
        quote = ""
        quoted = False
        while i < n:
            c = value[i]
            if c == "\\":
                esc = _cunescape_one(value, i + 1)
                if esc is None:
                    # relaxed retry (extract_first_word_and_warn): the backslash is kept verbatim
                    buf.append("\\")
                    if i + 1 < n:
                        buf.append(value[i + 1])
                    i += 2
                    continue
                buf.append(esc[0])
                i += 1 + esc[1]
                continue
            if quote:
                if c == quote:
                    quote = ""
                else:
                    buf.append(c)
                i += 1
                continue
            if c in "'\"":
                quote, quoted = c, True
                i += 1
                continue
            if c in _WS:
                break
            buf.append(c)
            i += 1
        if quote:
            return words, "quoting"
        words.append(("".join(buf), quoted))


def resolve_specifiers(word: str, values: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """Resolve ``%x`` unit specifiers; ``None`` when one is unknown (systemd ignores the word).

    The second item lists the specifiers seen (other than ``%%``), for findings: a ``%`` in a proxy
    password that happens to be a valid specifier is silently replaced.

    >>> resolve_specifiers("u:p%%23w@p:3128", {})
    ('u:p%23w@p:3128', [])
    >>> resolve_specifiers("u:p%40w@p", {}) is None
    True
    """
    out: list[str] = []
    seen: list[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(word) or word[i + 1] not in _SPECIFIERS:
            return None
        spec = word[i + 1]
        if spec == "%":
            out.append("%")
        else:
            seen.append("%" + spec)
            out.append(values.get(spec, ""))
        i += 2
    return "".join(out), seen


def unit_specifiers(unit: str, *, user_home: str = "/root") -> dict[str, str]:
    """The specifier values systemd would use for a system unit named ``unit`` (``docker.service``)."""
    prefix = unit.rsplit(".", 1)[0]
    return {"n": unit, "N": prefix, "p": prefix.split("@", 1)[0], "P": prefix.split("@", 1)[0],
            "i": prefix.split("@", 1)[1] if "@" in prefix else "", "I": "", "f": "/" + prefix, "h": user_home,
            "t": "/run", "S": "/var/lib", "C": "/var/cache", "L": "/var/log", "E": "/etc",
            "u": "root", "U": "0", "g": "root", "G": "0", "s": "/bin/sh",
            "T": "/tmp", "V": "/var/tmp"}  # noqa: S108  (text substituted into values, never opened)


def parse_environment(lines: list[Line], specifiers: Mapping[str, str] | None) -> EnvResult:
    """The variables the ``Environment=`` lines of one unit set, in systemd's order and rules.

    ``specifiers`` None: no specifier resolution (the manager's ``DefaultEnvironment=``)."""
    res = EnvResult()
    assigned: dict[str, Assignment] = {}
    for ln in lines:
        if ln.key != "Environment":
            continue
        if not ln.value:
            assigned.clear()
            res.reset_at = ln.line
            continue
        words, err = split_words(ln.value)
        for word, quoted in words:
            resolved = (word, []) if specifiers is None else resolve_specifiers(word, specifiers)
            if resolved is None:
                m = re.search(r"%[^%]", word.replace("%%", ""))
                res.dropped.append(Dropped(word, ln.line, "specifier", m.group(0) if m else "%"))
                continue
            text, seen = resolved
            name, eq, val = text.partition("=")
            if not eq or not _ENV_NAME.match(name):
                res.dropped.append(Dropped(word, ln.line, "name"))
                continue
            notes = []
            if "%%" in word:
                notes.append("%% read as %")
            if seen:
                notes.append("specifiers replaced: " + " ".join(seen))
            if quoted:
                notes.append("quotes removed")
            _assign(assigned, Assignment(name, val, ln.line, tuple(notes)))
        if err:
            res.dropped.append(Dropped(ln.value, ln.line, "quoting"))
    res.assignments = list(assigned.values())
    return res


def _assign(assigned: dict[str, Assignment], new: Assignment) -> None:
    """The last assignment of a name wins and takes its place in the order (a dict: linear in the count)."""
    assigned.pop(new.name, None)
    assigned[new.name] = new


def unit_values(lines: list[Line], section: str, key: str) -> list[Line]:
    """Every ``key=`` of ``section``; an empty value resets the list (systemd's rule for lists)."""
    out: list[Line] = []
    for ln in lines:
        if ln.section == section and ln.key == key:
            if ln.value:
                out.append(ln)
            else:
                out.clear()
    return out


def exec_words(value: str) -> list[str]:
    """The argv of an ``ExecStart=`` value: prefixes (``-@:+!``) removed, words split, ``;``-chains cut.

    >>> exec_words('-/usr/bin/dockerd -H fd:// --registry-mirror "https://m:5000"')
    ['/usr/bin/dockerd', '-H', 'fd://', '--registry-mirror', 'https://m:5000']
    """
    v = value.lstrip()
    while v and v[0] in "-@:+!|":
        v = v[1:]
    words, _ = split_words(v)
    argv = [w for w, _ in words]
    if ";" in argv:
        argv = argv[:argv.index(";")]
    return argv


# ---------------------------------------------------------------------------------------- env files


def parse_env_file(text: str) -> EnvResult:
    """``EnvironmentFile=`` syntax (systemd env-file.c): the assignments and what is dropped.

    >>> [(a.name, a.value) for a in parse_env_file("A='x y'\\nB=\\"q\\\\$\\" # not a comment\\n").assignments]
    [('A', 'x y'), ('B', 'q$# not a comment')]
    """
    scan = _EnvFileScan(text)
    state, steps = "PRE_KEY", _ENV_FILE_STATES
    while scan.pos < scan.end:
        state = steps[state](scan)
    if state in _ENV_FILE_PENDING:
        scan.push()  # input ending inside a value still assigns it (a VALUE's blanks are already trimmed)
    scan.result.assignments = list(scan.assigned.values())
    return scan.result


def _step(run: str) -> re.Pattern[str]:
    """A state's step: the run of characters that keep it (group 1), then the one that ends it (group 2).

    systemd reads a character at a time; taking a run of characters that leave the state unchanged
    in one match is the same thing, in time linear in the input. Group 2 is empty at the end of input.

    >>> _step("[^=]*").match("key=value").groups()
    ('key', '=')
    """
    return re.compile(f"({run})(.?)", re.DOTALL)


_PRE_KEY_STEP = _step(r"[ \t\n\r]*")
_KEY_STEP = _step(r"[^=\n\r]*")
_PRE_VALUE_STEP = _step(r"[ \t]*")
_VALUE_STEP = _step(r"[^\\\n\r]*")
_DOUBLE_QUOTE_STEP = _step(r'[^"\\]*')
_COMMENT_STEP = _VALUE_STEP
_NEWLINE = "\n\r"
_SHELL_NEED_ESCAPE = '"\\`$'


class _EnvFileScan:
    """The variables of systemd's ``parse_env_file_internal()``: input position, key, value so far."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = len(text)
        self.pos = 0
        self.result = EnvResult()
        self.assigned: dict[str, Assignment] = {}
        self.key = ""
        self.key_line = 1
        self.value: list[str] = []
        self.quoted = False
        self._line = 1
        self._counted = 0

    def step(self, pattern: re.Pattern[str]) -> tuple[str, str]:
        """The run ``pattern`` takes from here and the character that stopped it ("" at the end), consumed."""
        m = pattern.match(self.text, self.pos)
        assert m is not None  # a step's run is a starred class and its stop optional: it always matches
        self.pos = m.end()
        run, stop = m.groups()
        return run, stop

    def take(self) -> str:
        """The next character, consumed (a state is only entered with one left)."""
        self.pos += 1
        return self.text[self.pos - 1]

    def start_key(self, first: str) -> None:
        self._line += self.text.count("\n", self._counted, self.pos)
        self._counted = self.pos
        self.key, self.key_line, self.quoted = first, self._line, False

    def push(self) -> None:
        """Assign the key and value read (systemd's ``push``): names that are not valid are dropped."""
        k, v = self.key, "".join(self.value)
        if not _ENV_NAME.match(k):
            detail = "`export` is not understood by systemd" if k.startswith("export ") else ""
            self.result.dropped.append(Dropped(f"{k}={v}", self.key_line, "name", detail))
            return
        _assign(self.assigned, Assignment(k, v, self.key_line, ("quotes removed",) if self.quoted else ()))


def _pre_key(scan: _EnvFileScan) -> str:
    """Blanks and empty lines skipped; ``#`` or ``;`` opens a comment, any other character a key."""
    _, stop = scan.step(_PRE_KEY_STEP)
    if not stop:
        return "PRE_KEY"
    if stop in "#;":
        return "COMMENT"
    scan.start_key(stop)  # even ``=``: the first character always belongs to the key
    return "KEY"


def _key(scan: _EnvFileScan) -> str:
    """Up to ``=`` (trailing blanks trimmed); a line that ends first is no assignment and is dropped."""
    run, stop = scan.step(_KEY_STEP)
    if stop == "=":
        scan.key, scan.value = (scan.key + run).rstrip(_WS), []
        return "PRE_VALUE"
    return "PRE_KEY" if stop else "KEY"


def _pre_value(scan: _EnvFileScan) -> str:
    """Blanks before the value skipped; a quote or backslash here starts quoting, else a plain value."""
    _, stop = scan.step(_PRE_VALUE_STEP)
    if not stop:
        return "PRE_VALUE"
    if stop in _NEWLINE:
        scan.push()
        return "PRE_KEY"
    if stop in _VALUE_OPENERS:
        scan.quoted = scan.quoted or stop != "\\"
        return _VALUE_OPENERS[stop]
    scan.value.append(stop)
    return "VALUE"


_VALUE_OPENERS = {"'": "SINGLE_QUOTE_VALUE", '"': "DOUBLE_QUOTE_VALUE", "\\": "VALUE_ESCAPE"}


def _value(scan: _EnvFileScan) -> str:
    """A plain value to the end of the line, trailing blanks trimmed (not escaped ones); quotes are literal."""
    run, stop = scan.step(_VALUE_STEP)
    if stop == "\\":
        scan.value.append(run)
        return "VALUE_ESCAPE"
    scan.value.append(run.rstrip(_WS))
    if not stop:
        return "VALUE"
    scan.push()
    return "PRE_KEY"


def _value_escape(scan: _EnvFileScan) -> str:
    """The character after ``\\`` taken literally; an escaped line end joins the next line."""
    c = scan.take()
    if c not in _NEWLINE:
        scan.value.append(c)
    return "VALUE"


def _single_quote_value(scan: _EnvFileScan) -> str:
    """Everything up to the closing ``'`` literally, line ends included; unterminated: to the end."""
    close = scan.text.find("'", scan.pos)
    if close < 0:
        scan.value.append(scan.text[scan.pos:])
        scan.pos = scan.end
        return "SINGLE_QUOTE_VALUE"
    scan.value.append(scan.text[scan.pos:close])
    scan.pos = close + 1
    return "PRE_VALUE"


def _double_quote_value(scan: _EnvFileScan) -> str:
    """Everything up to the closing ``"``, line ends included; ``\\`` escapes the next character."""
    run, stop = scan.step(_DOUBLE_QUOTE_STEP)
    scan.value.append(run)
    return _DOUBLE_QUOTE_STOPS[stop]


_DOUBLE_QUOTE_STOPS = {'"': "PRE_VALUE", "\\": "DOUBLE_QUOTE_VALUE_ESCAPE", "": "DOUBLE_QUOTE_VALUE"}


def _double_quote_value_escape(scan: _EnvFileScan) -> str:
    """``\\"`` ``\\\\`` ``\\``` ``\\$`` unescaped, ``\\`` newline eaten, any other escape kept as written."""
    c = scan.take()
    if c in _SHELL_NEED_ESCAPE:
        scan.value.append(c)
    elif c != "\n":
        scan.value += ["\\", c]
    return "DOUBLE_QUOTE_VALUE"


def _comment(scan: _EnvFileScan) -> str:
    """To the end of the line; a ``\\`` escapes the next character (never the line end, since v254)."""
    _, stop = scan.step(_COMMENT_STEP)
    return _COMMENT_STOPS.get(stop, "PRE_KEY")


_COMMENT_STOPS = {"\\": "COMMENT_ESCAPE", "": "COMMENT"}


def _comment_escape(scan: _EnvFileScan) -> str:
    """The escaped character skipped; an escaped line end still ends the comment."""
    return "PRE_KEY" if scan.take() in _NEWLINE else "COMMENT"


# systemd's states (env-file.c ``parse_env_file_internal``) and the step each takes.
_ENV_FILE_STATES: dict[str, Callable[[_EnvFileScan], str]] = {
    "PRE_KEY": _pre_key,
    "KEY": _key,
    "PRE_VALUE": _pre_value,
    "VALUE": _value,
    "VALUE_ESCAPE": _value_escape,
    "SINGLE_QUOTE_VALUE": _single_quote_value,
    "DOUBLE_QUOTE_VALUE": _double_quote_value,
    "DOUBLE_QUOTE_VALUE_ESCAPE": _double_quote_value_escape,
    "COMMENT": _comment,
    "COMMENT_ESCAPE": _comment_escape,
}
# states in which the end of the input still assigns the value read so far
_ENV_FILE_PENDING = frozenset({"PRE_VALUE", "VALUE", "VALUE_ESCAPE", "SINGLE_QUOTE_VALUE", "DOUBLE_QUOTE_VALUE",
                               "DOUBLE_QUOTE_VALUE_ESCAPE"})


def parse_environ(data: bytes) -> dict[str, str]:
    """``/proc/<pid>/environ``: NUL-separated ``NAME=value``; the first of duplicates wins (getenv)."""
    out: dict[str, str] = {}
    for item in data.split(b"\0"):
        name, eq, value = item.decode("utf-8", "replace").partition("=")
        if eq and name:
            out.setdefault(name, value)  # getenv (glibc and Go) returns the first match
    return out


# ------------------------------------------------------------------------------------------ JSON, TOML


class ConfigSyntaxError(ValueError):
    """A configuration file that its program would refuse too (with the parser's message)."""


def load_json(text: str) -> Any:
    """JSON with the size and depth limits a hostile file needs.

    >>> load_json('{"proxies": {"default": {}}}')
    {'proxies': {'default': {}}}
    """
    try:
        return safejson.loads(text, max_bytes=MAX_FILE, max_depth=MAX_JSON_DEPTH)
    except ValueError as exc:
        raise ConfigSyntaxError(str(exc)) from None


def load_toml(text: str) -> dict[str, Any]:
    """TOML (tomllib) with the same size limit."""
    import tomllib  # here: ``Source`` (this module's other user) is loaded before any TOML is read

    if len(text) > MAX_FILE:
        raise ConfigSyntaxError(f"larger than {MAX_FILE} bytes")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigSyntaxError(str(exc)) from None


def json_line(text: str, key: str) -> int | None:
    """The first line on which ``"key"`` appears (JSON has no positions; this is for evidence)."""
    needle = f'"{key}"'
    for no, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return no
    return None


__all__ = [
    "Assignment", "ConfigSyntaxError", "Dropped", "EnvResult", "Line", "exec_words", "json_line", "load_json",
    "load_toml", "parse_env_file", "parse_environ", "parse_environment", "resolve_specifiers", "split_words",
    "unit_lines", "unit_specifiers", "unit_values",
]
