"""Text -> entities + symptom matches -> ranked findings. Pure: no sockets, no files.

Strategy
--------
Users arrive with an error, not a hypothesis. A Go client's message is a chain of wrappers
around one leaf (reference client-errors.md §1)::

    Error response from daemon: Get "https://r.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: …
    └──── client wrapper ─────┘ └── method + URL ───┘ └── proxy hop ──┘ └────────── leaf ───────────────┘

so a line is read outside-in, as a grammar, not a list of messages:

1. ``tokens`` finds the pieces every client is built from (URLs with their method, proxy hops,
   operations with their address, the socket / resolver / TLS / timeout leaves of Go, glibc,
   Windows and Python, HTTP statuses in any wording, OCI registry error codes in every rendering,
   HTML and storage-XML bodies); ``grammar`` picks the leaf that decides and its *kind* from the
   leaf and the operation it ends (``i/o timeout`` after ``lookup`` is DNS, after ``dial`` TCP);
2. the kind's meaning is data (``kb/symptoms.toml [leaf.*]``): catalogue codes with confidences,
   the same codes ``check`` uses; specific messages (``[[symptom]]``: ACR's firewall text, Docker
   Hub's quota, the az CLI) refine it;
3. the structure decides where it happened: behind a proxy hop the leaf is the proxy's; on a blob
   storage / CDN host a ``data`` finding; on a separate token host the token service's — the
   role comes from ``kb/roles.toml``, the one table ``check`` uses — and the original code stays
   as a lower alternative;
4. entities (hosts, addresses, resolver, proxy, status, ACR registry and region, the client and
   its likely version) and conditions derived from them (an ACR host, a proxy in play, a daemon
   making the pull, a manifest request…) move the confidences;
5. every matching line joins a group (symptom, code, host) with a count and first/last line;
   each group yields one root cause and its alternatives, surest first, each with the fix from
   the catalogue, client-specific advice, and the ``regdoctor check`` command that would confirm
   it when the text names a host.

The package, one room per step::

    scan      chunked bytes -> candidate lines (gate), each with the lines before it
    paste     a paste back as printed: escape sequences dropped, lines broken for display joined
    vocab     the words: reason phrases, registry error codes, socket and resolver texts
    tokens    a line -> its pieces (URL, proxy hop, operation, leaf, server answer), linear time
    grammar   the pieces -> the leaf and its kind, the URL it is about, proxied or not
    entities  hosts, addresses, resolver, proxy, status, image, client and version
    match     a line -> ranked codes (the leaf table, host roles, refining symptoms)
    findings  a code -> a catalogue finding with texts filled from the line
    rank      groups of lines -> root causes and their alternatives, best first

Scanning is built for whole logs (``explain --file``). The cost per unrelated line must stay
near zero, so lines are never iterated in Python: the text is read in chunks, and the gate's
regexes (literal-prefixed, see ``kb.symptoms.build_gate``) find the few candidate lines;
only those are decoded, unescaped, redacted and matched. Lines are cut at ``MAX_LINE`` bytes and
an over-long line is skipped to its end without being kept, so memory stays bounded whatever
the input (a 100 MB single line costs one chunk plus ``MAX_LINE``).

Secrets never leave this module: candidate lines are redacted (proxy passwords, tokens,
``Authorization`` values, signed-URL signatures) before any match, so ``matched``, evidence and
samples only ever see redacted text.
"""

from __future__ import annotations

from collections.abc import Iterable

from regdoctor.explain.match import LineMatch, match_line
from regdoctor.explain.rank import Collector, Explanation, Group, explanation
from regdoctor.explain.scan import CHUNK, MAX_LINE, Scanner, clean
from regdoctor.kb.symptoms import SymptomBook, book
from regdoctor.redact import redact


def explain_chunks(chunks: Iterable[bytes], *, strict: bool = False, max_line: int = MAX_LINE,
                   symptom_book: SymptomBook | None = None) -> Explanation:
    """Explain a byte stream given as chunks (a file, stdin): every matching line, grouped.

    ``strict=True`` reads it as a log of anything (``explain --file``): generic network texts
    then count only on lines that show a registry context (see ``match_line``).

    >>> ex = explain_chunks([b"starting\\n", b"x509: certificate signed by unknown authority\\n"])
    >>> (ex.lines, ex.findings[0].code, ex.groups[0].first_line)
    (2, 'TLS_UNKNOWN_CA', 2)
    """
    bk = symptom_book or book()
    scanner = Scanner(bk, max_line=max_line, strict=strict)
    col = Collector()  # keeps groups, not lines: memory stays bounded for any log
    for lineno, raw, prev in scanner.candidates(chunks):
        lm = match_line(clean(raw), lineno=lineno, prev=clean(prev) if prev else "", strict=strict,
                        symptom_book=bk)
        if lm is not None:
            col.add(lm)
    return explanation(col, scanner.lines, scanner.cut_lines, bk)


def explain(text: str, *, symptom_book: SymptomBook | None = None) -> Explanation:
    """Explain one pasted message (one line or a block).

    >>> ex = explain("Get https://myreg.azurecr.io/v2/: denied: client with IP '203.0.113.7' is not allowed access")
    >>> f = ex.findings[0]
    >>> (f.code, f.layer, f.evidence["client_ip"], f.confirm)
    ('HTTP_FIREWALL_DENIED', 'http', '203.0.113.7', 'regdoctor check -n myreg')
    """
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
    return explain_chunks([data], symptom_book=symptom_book)



__all__ = ["CHUNK", "MAX_LINE", "Explanation", "Group", "LineMatch", "Scanner", "explain", "explain_chunks",
           "match_line", "redact"]
