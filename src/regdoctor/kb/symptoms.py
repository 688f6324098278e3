"""The symptom patterns of ``explain``: loaded from ``symptoms.toml``, validated, compiled once.

Strategy
--------
The patterns are data (``symptoms.toml`` beside the codes catalogue), so adding a client's
wording is a data change. This module turns the file into a :class:`SymptomBook` and refuses a
malformed one with :class:`~regdoctor.kb.CatalogueError`, exactly like the catalogue loader: a
symptom that names an unknown code, an alternative ranked above its primary, a regex that does
not compile or a named group that ``explain`` would not understand is a packaging bug, found the
first time the book is loaded (and by the unit tests), never half-way through a user's log.

The book also carries the *prefilter* (``gate``): two byte regexes that find the lines worth a
closer look. Speed matters here (``explain --file`` must scan well over 200,000 lines per
second on one core), and CPython's ``re`` is only fast when a pattern starts with a literal:

- anchors written ``": leaf text"`` go into one regex ``: (?:leaf1|leaf2|…)``, whose literal
  prefix ``": "`` lets ``re`` skip through a buffer at memory speed. Go and Python error chains
  put ``": "`` before almost every leaf; the scanner adds ``": "`` at every line start so a leaf
  pasted alone matches too;
- the other anchors go into a second regex, grouped by first byte to keep it cheap, except
  those starting with a lower-case letter: each is its own literal search (a common letter in
  the first-byte set would make the grouped regex try almost every position).

Everything is built once per process (``lru_cache``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from regdoctor.kb import CatalogueError, catalogue
from regdoctor.kb.codes import Code

#: Conditions a ``boost`` may name; ``regdoctor.explain`` evaluates them per line.
CONDITIONS = frozenset({
    "acr", "proxy", "manifest", "token", "http_url", "interception",
    "status_401", "status_403", "status_404", "status_408", "status_413", "status_429",
    "html", "storage_xml", "login", "blob", "daemon", "loopback_dial", "name_collision", "official_image",
    "ping", "ipv6_dial", "push", "iam_registry", "logged_in", "bad_reference", "host_as_repository", "proxy_set",
    "anonymous", "public_host", "network_rule", "bare_refusal", "echoed_refusal",
})

#: Named groups a pattern may capture; each becomes an entity of the match.
ENTITY_GROUPS = frozenset({
    "host", "resolver", "address", "port", "local", "url", "proxy", "status", "status_text", "client_ip",
    "login_server", "registry_name", "repository", "image", "platform", "arch", "redirects", "length",
    "timeout_s", "errno_text", "during", "tls_error", "issuer", "cert_names", "now", "not_after",
    "not_before", "message", "page_title", "http_error",
})

_KEYS = frozenset({"id", "code", "confidence", "anchors", "gate", "pattern", "alternatives", "boost", "on_proxy",
                   "fallback", "standalone", "note", "example"})
_FRAGMENT_RE = re.compile(r"\{\{([a-z_]+)\}\}")
_ID_RE = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")


@dataclass(frozen=True)
class Candidate:
    """One code a symptom can mean, with its base confidence and per-condition adjustments."""

    code: Code
    confidence: float
    boost: tuple[tuple[str, float], ...] = ()

    def score(self, conditions: frozenset[str]) -> float:
        """The confidence under ``conditions``, kept within 0.01..0.99.

        >>> Candidate(Code.TCP_TIMEOUT, 0.4, (("acr", 0.2),)).score(frozenset({"acr"}))
        0.6
        """
        value = self.confidence + sum(delta for cond, delta in self.boost if cond in conditions)
        return round(min(0.99, max(0.01, value)), 3)


@dataclass(frozen=True)
class Symptom:
    """One recognisable text: its anchors (prefilter), its regex, and the codes it can mean."""

    id: str
    candidates: tuple[Candidate, ...]  # the primary first
    anchors: tuple[str, ...]
    #: what the log scanner's prefilter looks for (default: the anchors)
    gate: tuple[str, ...]
    regex: re.Pattern[str]
    on_proxy: Code | None
    fallback: bool
    #: the text alone is about a registry; other texts need a registry context in a log
    standalone: bool
    note: str | None
    example: str

    @property
    def code(self) -> Code:
        return self.candidates[0].code


@dataclass(frozen=True)
class LeafRule:
    """What one kind of leaf the grammar reads (``tcp.refused``, ``oci.denied`` …) means."""

    kind: str
    candidates: tuple[Candidate, ...]  # the primary first
    #: behind a proxy hop: the code that replaces the primary, or a whole ranking of its own
    on_proxy: Code | None
    via_proxy: tuple[Candidate, ...]
    #: the leaf itself is about a registry (an OCI error code…): it counts in a log without a hint
    standalone: bool
    note: str | None
    example: str

    @property
    def code(self) -> Code:
        return self.candidates[0].code


@dataclass(frozen=True)
class Fingerprint:
    """A text feature that tells which client (and which version range) printed a message."""

    anchor: str
    regex: re.Pattern[str] | None
    client: str | None
    library: str | None
    min: tuple[int, ...] | None
    max: tuple[int, ...] | None
    fact: str | None


@dataclass(frozen=True)
class Advice:
    """Client-specific text added to the fix when a line carries ``when`` and the layer fits."""

    when: tuple[str, ...]
    layers: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Phrase:
    """A rewrite of a template fragment whose first placeholder the text did not reveal."""

    frm: str
    to: str
    #: None always; "host" only when the finding's host is known; "no_host" only when it is not
    when: str | None
    #: the placeholder whose absence triggers the rewrite
    trigger: str


@dataclass(frozen=True)
class Context:
    """The outside-in reading rules: markers of the proxy hop, blob and token paths, host roles."""

    registry_hints: tuple[str, ...]
    proxy_markers: tuple[str, ...]
    data_markers: tuple[str, ...]
    data_trailers: tuple[str, ...]
    realm_markers: tuple[str, ...]
    manifest_markers: tuple[str, ...]
    #: host suffixes of registries whose refusals are identity verdicts (no client network rules)
    iam_registries: tuple[str, ...] = ()
    #: host suffixes of other hosted registries whose certificates come from public CAs
    public_ca_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SymptomBook:
    """Everything ``explain`` needs, validated and compiled."""

    symptoms: tuple[Symptom, ...]
    #: leaf kind -> what it means (the grammar's table)
    leaves: Mapping[str, LeafRule]
    #: anchor -> indices into ``symptoms`` of the symptoms that anchor admits
    by_anchor: Mapping[str, tuple[int, ...]]
    #: ": phrase" anchors of three words or more, also admitted after a plain space: a paste that
    #: lost a wrapper's colon or line break (`Error context canceled no matching manifest for …`)
    #: still holds the phrase, which is too specific to be prose
    loose_anchors: frozenset[str]
    #: the prefilter over raw bytes (see the module docstring)
    gate: tuple[re.Pattern[bytes], ...]
    context: Context
    fingerprints: tuple[Fingerprint, ...]
    advice: tuple[Advice, ...]
    interception: tuple[str, ...]  # lower case
    unknown_phrases: tuple[Phrase, ...]
    #: placeholder -> token used inside `code spans` when the text did not reveal it
    unknown_code: Mapping[str, str]
    unknown_values: Mapping[str, str]

    def symptom(self, symptom_id: str) -> Symptom:
        """The symptom with this id (``KeyError`` if none)."""
        for s in self.symptoms:
            if s.id == symptom_id:
                return s
        raise KeyError(symptom_id)


def _str_list(raw: Any, what: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw) or (not raw and not allow_empty):
        raise CatalogueError(f"symptoms: {what} must be a list of non-empty strings")
    return tuple(raw)


def _version(raw: Any, what: str) -> tuple[int, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]+(?:\.[0-9]+)*", raw):
        raise CatalogueError(f"symptoms: {what}: bad version {raw!r}")
    return tuple(int(p) for p in raw.split("."))


def _confidence(raw: Any, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 1:
        raise CatalogueError(f"symptoms: {what}: confidence must be a number in (0, 1]")
    return float(raw)


def _boost(raw: Any, what: str) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise CatalogueError(f"symptoms: {what}: boost must be a table")
    out: list[tuple[str, float]] = []
    for cond, delta in raw.items():
        if cond not in CONDITIONS:
            raise CatalogueError(f"symptoms: {what}: unknown boost condition {cond!r}")
        if isinstance(delta, bool) or not isinstance(delta, int | float) or not -1 <= delta <= 1:
            raise CatalogueError(f"symptoms: {what}: boost {cond} must be a number in [-1, 1]")
        out.append((cond, float(delta)))
    return tuple(out)


def _expand(pattern: str, fragments: Mapping[str, str], what: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in fragments:
            raise CatalogueError(f"symptoms: {what}: unknown fragment {{{{{name}}}}}")
        return fragments[name]

    return _FRAGMENT_RE.sub(sub, pattern)


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise CatalogueError(f"symptoms: {what}: bad pattern: {exc}") from None
    unknown = set(rx.groupindex) - ENTITY_GROUPS
    if unknown:
        raise CatalogueError(f"symptoms: {what}: unknown named groups {sorted(unknown)}")
    return rx


def _known(code: Any, what: str, sid: str, codes: Mapping[Code, Any]) -> Code:
    if not isinstance(code, str) or code not in codes:
        raise CatalogueError(f"symptoms: {sid}: {what} names unknown code {code!r}")
    return Code(code)


def _candidates(raw: Mapping[str, Any], sid: str, codes: Mapping[Code, Any]) -> tuple[Candidate, ...]:
    """The primary ``code``/``confidence``/``boost`` and the ``alternatives`` of one entry."""
    primary = Candidate(_known(raw.get("code"), "code", sid, codes), _confidence(raw.get("confidence"), sid),
                        _boost(raw.get("boost"), sid))
    cands = [primary]
    alternatives = raw.get("alternatives", [])
    if not isinstance(alternatives, list):
        raise CatalogueError(f"symptoms: {sid}: alternatives must be a list")
    for alt in alternatives:
        if not isinstance(alt, dict) or set(alt) - {"code", "confidence", "boost"}:
            raise CatalogueError(f"symptoms: {sid}: an alternative must be {{code, confidence[, boost]}}")
        cand = Candidate(_known(alt.get("code"), "an alternative", sid, codes), _confidence(alt.get("confidence"), sid),
                         _boost(alt.get("boost"), sid))
        # alternatives are what the text *less* likely means: a base confidence at or above the
        # primary's would make the ranking contradict the file's own order
        if cand.confidence >= primary.confidence:
            raise CatalogueError(f"symptoms: {sid}: alternative {cand.code} is not below the primary")
        if cand.code in {c.code for c in cands}:
            raise CatalogueError(f"symptoms: {sid}: {cand.code} listed twice")
        cands.append(cand)
    return tuple(cands)


_LEAF_KEYS = frozenset({"code", "confidence", "alternatives", "boost", "on_proxy", "proxy", "standalone", "note",
                        "example"})


def _leaf(kind: str, raw: Any, codes: Mapping[Code, Any]) -> LeafRule:
    sid = f"leaf {kind}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"symptoms: {sid} is not a table")
    if set(raw) - _LEAF_KEYS:
        raise CatalogueError(f"symptoms: {sid}: unknown keys {sorted(set(raw) - _LEAF_KEYS)}")
    if not isinstance(raw.get("example"), str) or not raw["example"]:
        raise CatalogueError(f"symptoms: {sid}: missing example")
    on_proxy = _known(raw["on_proxy"], "on_proxy", sid, codes) if raw.get("on_proxy") is not None else None
    proxy = raw.get("proxy")
    via_proxy: tuple[Candidate, ...] = ()
    if proxy is not None:
        if not isinstance(proxy, dict) or set(proxy) - {"code", "confidence", "alternatives"} or on_proxy:
            raise CatalogueError(f"symptoms: {sid}: proxy must be {{code, confidence[, alternatives]}}, "
                                 "without on_proxy")
        via_proxy = _candidates(proxy, sid, codes)
    standalone, note = raw.get("standalone", False), raw.get("note")
    if not isinstance(standalone, bool) or (note is not None and (not isinstance(note, str) or not note)):
        raise CatalogueError(f"symptoms: {sid}: standalone must be a boolean, note a string")
    return LeafRule(kind=kind, candidates=_candidates(raw, sid, codes), on_proxy=on_proxy, via_proxy=via_proxy,
                    standalone=standalone, note=note, example=raw["example"])


def _symptom(raw: Any, fragments: Mapping[str, str], codes: Mapping[Code, Any]) -> Symptom:
    if not isinstance(raw, dict):
        raise CatalogueError("symptoms: a [[symptom]] entry is not a table")
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        raise CatalogueError(f"symptoms: bad symptom id {sid!r}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise CatalogueError(f"symptoms: {sid}: unknown keys {sorted(unknown)}")
    for key in ("code", "pattern", "example"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogueError(f"symptoms: {sid}: missing {key}")

    def known(code: Any, what: str) -> Code:
        return _known(code, what, sid, codes)

    cands = _candidates(raw, sid, codes)
    anchors = _str_list(raw.get("anchors"), f"{sid}: anchors")
    gate = anchors if "gate" not in raw else _str_list(raw.get("gate"), f"{sid}: gate", allow_empty=True)
    if not all(a.isascii() for a in (*anchors, *gate)):
        raise CatalogueError(f"symptoms: {sid}: anchors must be ASCII")
    on_proxy = raw.get("on_proxy")
    if on_proxy is not None:
        on_proxy = known(on_proxy, "on_proxy")
    fallback, standalone = raw.get("fallback", False), raw.get("standalone", False)
    note = raw.get("note")
    if (not isinstance(fallback, bool) or not isinstance(standalone, bool)
            or (note is not None and (not isinstance(note, str) or not note))):
        raise CatalogueError(f"symptoms: {sid}: fallback and standalone must be booleans, note a string")
    return Symptom(
        id=sid,
        candidates=tuple(cands),
        anchors=anchors,
        gate=gate,
        regex=_compile(_expand(raw["pattern"], fragments, sid), sid),
        on_proxy=on_proxy,
        fallback=fallback,
        standalone=standalone,
        note=note,
        example=raw["example"],
    )


def _context(raw: Any) -> Context:
    if not isinstance(raw, dict):
        raise CatalogueError("symptoms: [context] is missing")
    return Context(
        registry_hints=_str_list(raw.get("registry_hints"), "context.registry_hints"),
        proxy_markers=_str_list(raw.get("proxy_markers"), "context.proxy_markers"),
        data_markers=_str_list(raw.get("data_markers"), "context.data_markers"),
        data_trailers=_str_list(raw.get("data_trailers", []), "context.data_trailers"),
        realm_markers=_str_list(raw.get("realm_markers"), "context.realm_markers"),
        manifest_markers=_str_list(raw.get("manifest_markers"), "context.manifest_markers"),
        iam_registries=_str_list(raw.get("iam_registries"), "context.iam_registries"),
        public_ca_hosts=_str_list(raw.get("public_ca_hosts"), "context.public_ca_hosts"),
    )


def _fingerprint(raw: Any) -> Fingerprint:
    if not isinstance(raw, dict) or not isinstance(raw.get("anchor"), str) or not raw["anchor"]:
        raise CatalogueError("symptoms: a [[fingerprint]] needs an anchor")
    if set(raw) - {"anchor", "pattern", "client", "library", "min", "max", "fact"}:
        raise CatalogueError(f"symptoms: fingerprint {raw['anchor']!r}: unknown keys")
    what = f"fingerprint {raw['anchor']!r}"
    for key in ("pattern", "client", "library", "fact"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key]):
            raise CatalogueError(f"symptoms: {what}: {key} must be a non-empty string")
    if not any(k in raw for k in ("client", "library", "fact")):
        raise CatalogueError(f"symptoms: {what} tells nothing (client, library or fact)")
    if ("min" in raw or "max" in raw) and "library" not in raw:
        raise CatalogueError(f"symptoms: {what}: min/max need a library")
    pattern = raw.get("pattern")
    return Fingerprint(
        anchor=raw["anchor"],
        regex=_compile(pattern, what) if pattern else None,
        client=raw.get("client"),
        library=raw.get("library"),
        min=_version(raw.get("min"), what),
        max=_version(raw.get("max"), what),
        fact=raw.get("fact"),
    )


def _phrase(raw: Any) -> Phrase:
    if (not isinstance(raw, dict) or set(raw) - {"from", "to", "when"} or not isinstance(raw.get("from"), str)
            or not isinstance(raw.get("to"), str) or raw.get("when") not in (None, "host", "no_host")):
        raise CatalogueError("symptoms: an [[unknown.phrase]] needs from, to and an optional when (host|no_host)")
    first = re.search(r"\{([a-z_]+)\}", raw["from"])
    if first is None:
        raise CatalogueError(f"symptoms: unknown.phrase {raw['from']!r} names no placeholder")
    return Phrase(raw["from"], raw["to"], raw.get("when"), first.group(1))


def _advice(raw: Any) -> Advice:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"]:
        raise CatalogueError("symptoms: an [[advice]] needs a text")
    return Advice(_str_list(raw.get("when"), "advice.when"), _str_list(raw.get("layers"), "advice.layers"),
                  raw["text"])


def alternation(words: Sequence[bytes]) -> bytes:
    """One regex alternation of literals, grouped by first byte (``re`` tests one branch per byte).

    >>> alternation([b"ab", b"ac", b"d"])
    b'a(?:b|c)|d'
    """
    groups: dict[bytes, list[bytes]] = {}
    for w in words:
        groups.setdefault(w[:1], []).append(w[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        uniq = sorted(set(rests), key=lambda r: (-len(r), r))
        if len(uniq) == 1:
            parts.append(re.escape(first + uniq[0]))
        else:
            parts.append(re.escape(first) + b"(?:" + b"|".join(re.escape(r) for r in uniq) + b")")
    return b"|".join(parts)


def build_gate(anchors: Sequence[str], patterns: Sequence[bytes] = ()) -> tuple[re.Pattern[bytes], ...]:
    """The prefilter over raw bytes for these anchors (see the module docstring), plus ``patterns``.

    >>> [g.pattern for g in build_gate([": EOF", ": x509:", "DENIED", "toomanyrequests"])]
    [b': (?:EOF|x509:)', b'DENIED', b'toomanyrequests']
    """
    colon = sorted({a[2:].encode() for a in anchors if a.startswith(": ") and len(a) > 2},
                   key=lambda b: (-len(b), b))
    free = {a.encode() for a in anchors if not (a.startswith(": ") and len(a) > 2)}
    # a free anchor starting with a lower-case letter would put a common letter into the
    # trie's first-byte set and slow every position down; alone, it is a literal search
    lower = sorted(a for a in free if a[:1].islower())
    rest = sorted(free - set(lower))
    gate = []
    if colon:
        gate.append(re.compile(b": (?:" + alternation(colon) + b")"))
    if rest:
        gate.append(re.compile(alternation(rest)))
    gate.extend(re.compile(re.escape(a)) for a in lower)
    gate.extend(re.compile(p) for p in patterns)
    return tuple(gate)


def build(raw: Mapping[str, Any], codes: Mapping[Code, Any]) -> SymptomBook:
    """Validate the parsed TOML against the catalogue ``codes`` and compile it.

    >>> book = build(tomllib.loads(_data()), catalogue())
    >>> book.symptom("acr.http.firewall_denied").code, book.leaves["dns.nxdomain"].code
    ('HTTP_FIREWALL_DENIED', 'DNS_NXDOMAIN')
    """
    known_top = {"fragments", "context", "interception", "unknown", "advice", "fingerprint", "symptom", "leaf"}
    if set(raw) - known_top:
        raise CatalogueError(f"symptoms: unknown top-level keys {sorted(set(raw) - known_top)}")
    fragments = raw.get("fragments", {})
    if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
        raise CatalogueError("symptoms: [fragments] must map names to regex strings")
    entries = raw.get("symptom")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("symptoms: no [[symptom]] entries")
    symptoms = tuple(_symptom(e, fragments, codes) for e in entries)
    ids = [s.id for s in symptoms]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogueError(f"symptoms: duplicate ids {dupes}")
    by_anchor: dict[str, list[int]] = {}
    for i, s in enumerate(symptoms):
        for a in s.anchors:
            by_anchor.setdefault(a, []).append(i)

    unknown = raw.get("unknown", {})
    if not isinstance(unknown, dict):
        raise CatalogueError("symptoms: [unknown] must be a table")
    phrases = [_phrase(p) for p in unknown.get("phrase", [])]
    code_values, values = unknown.get("code", {}), unknown.get("values", {})
    for what, table in (("code", code_values), ("values", values)):
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise CatalogueError(f"symptoms: [unknown.{what}] must map placeholders to strings")
    interception = raw.get("interception", {})
    names = _str_list(interception.get("names") if isinstance(interception, dict) else None, "interception.names")
    advice = raw.get("advice", [])
    prints = raw.get("fingerprint", [])
    if not isinstance(advice, list) or not isinstance(prints, list):
        raise CatalogueError("symptoms: [[advice]] and [[fingerprint]] must be arrays of tables")
    leaves = raw.get("leaf", {})
    if not isinstance(leaves, dict) or not leaves:
        raise CatalogueError("symptoms: no [leaf.*] table")
    return SymptomBook(
        symptoms=symptoms,
        leaves={kind: _leaf(kind, entry, codes) for kind, entry in leaves.items()},
        by_anchor={a: tuple(ix) for a, ix in by_anchor.items()},
        loose_anchors=frozenset(a for a in by_anchor if a.startswith(": ") and a[2:].strip().count(" ") >= 2),
        gate=build_gate(sorted({a for sym in symptoms for a in sym.gate})),
        context=_context(raw.get("context")),
        fingerprints=tuple(_fingerprint(f) for f in prints),
        advice=tuple(_advice(a) for a in advice),
        interception=tuple(n.lower() for n in names),
        unknown_phrases=tuple(phrases),
        unknown_code=dict(code_values),
        unknown_values=dict(values),
    )


def _data() -> str:
    return resources.files("regdoctor.kb").joinpath("symptoms.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def book() -> SymptomBook:
    """The packaged symptom book, validated against the catalogue, compiled once per process."""
    return build(tomllib.loads(_data()), catalogue())


__all__ = [
    "CONDITIONS",
    "ENTITY_GROUPS",
    "Advice",
    "Candidate",
    "Context",
    "Fingerprint",
    "LeafRule",
    "Phrase",
    "Symptom",
    "SymptomBook",
    "alternation",
    "book",
    "build",
    "build_gate",
]
