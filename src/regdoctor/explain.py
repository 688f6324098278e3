"""Text -> entities + symptom matches -> ranked findings. Pure: no sockets, no files.

Strategy
--------
Users arrive with an error, not a hypothesis. A Go client's message is a chain of wrappers
around one leaf (reference client-errors.md §1)::

    Error response from daemon: Get "https://r.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: …
    └──── client wrapper ─────┘ └── method + URL ───┘ └── proxy hop ──┘ └────────── leaf ───────────────┘

so a line is read outside-in:

1. the *leaf* is found by the symptom patterns (``kb/symptoms.toml``), each naming catalogue
   codes with a base confidence — the same codes ``check`` uses;
2. the text *before* the leaf decides where it happened: behind a proxy hop the leaf is the
   proxy's (``on_proxy``); on a blob storage / CDN host it is a ``data`` finding; on a separate
   token host it is the token service's; the original code stays as a lower alternative;
3. entities (hosts, addresses, resolver, proxy, status, ACR registry and region, the client and
   its likely version) are pulled from the line, and conditions derived from them (an ACR host,
   a proxy in play, a manifest request, an inspection-looking certificate issuer…) move the
   confidences, so one text ranks its causes differently in different contexts;
4. every matching line joins a group (symptom, code, host) with a count and first/last line;
   each group yields its primary finding and its alternatives, best first, each with the fix
   from the catalogue, client-specific advice, and the ``regdoctor check`` command that would
   confirm it.

Scanning is built for whole logs (``explain --file``). The cost per unrelated line must stay
near zero, so lines are never iterated in Python: the text is read in chunks, and the symptom
book's prefilter regexes (literal-prefixed, see ``kb.symptoms``) find the few candidate lines;
only those are decoded, unescaped, redacted and matched. Lines are cut at ``MAX_LINE`` bytes and
an over-long line is skipped to its end without being kept, so memory stays bounded whatever
the input (a 100 MB single line costs one chunk plus ``MAX_LINE``).

Secrets never leave this module: candidate lines are redacted (proxy passwords, tokens,
``Authorization`` values, signed-URL signatures) before any match, so ``matched``, evidence and
samples only ever see redacted text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from regdoctor import kb
from regdoctor.errors import BadReference
from regdoctor.kb import roles
from regdoctor.kb.codes import Code
from regdoctor.kb.symptoms import Symptom, SymptomBook, alternation, book
from regdoctor.model import Finding
from regdoctor.target import acr_name, parse_target

#: Lines are cut here (bytes): enough for any real error, bounded for hostile input.
MAX_LINE = 64 * 1024
#: Read size of the chunked scanner.
CHUNK = 1 << 20
#: Alternatives kept per symptom group (after the primary).
MAX_ALTERNATIVES = 4
#: Distinct groups kept; further distinct hosts fold into their symptom's first group.
MAX_GROUPS = 500
#: Characters of a line kept as a group's sample.
SAMPLE_CHARS = 400
#: Entries kept per list in the message-level entity summary.
MAX_LIST = 20

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

# ------------------------------------------------------------------------------------ redaction

# (trigger substrings of the lower-cased text, pattern, replacement): a pattern runs only when one
# of its triggers is present, so a line without secrets costs a few substring tests, not six
# regex scans.
_REDACTIONS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # user:password@ in any URL (proxy URLs above all)
    (("@",), re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@'\"]+):([^@\s/'\"]+)@"), r"\1\2:***@"),
    # the same without a scheme (Go accepts HTTPS_PROXY=user:pass@host:3128); not an image
    # reference's tag before its digest (alpine:3.19@sha256:…)
    (("@",), re.compile(r"(?<![\w/:.*])([A-Za-z0-9._%+-]+):(?!\*\*\*@)([^@\s/'\":]+)@(?!sha256:|sha512:)"),
     r"\1:***@"),
    # Authorization headers, with or without a scheme word
    (("authorization",),
     re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+|basic\s+)?[^\s\"',;]+"), r"\1\2***"),
    # credentials and signatures in query strings (SAS `sig`, S3 signatures, OAuth tokens)
    (("token=", "password=", "passwd=", "pwd=", "secret=", "sig=", "signature=", "x-amz-", "code="),
     re.compile(r"(?i)([?&;](?:access_token|refresh_token|id_token|token|password|passwd|pwd|secret|"
                r"client_secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code)=)"
                r"[^&\s\"'#]+"), r"\1***"),
    # JSON / key=value secrets (docker config "auth", identity tokens, passwords)
    (("password", "passwd", "secret", "auth", "identitytoken", "registrytoken", "_token"),
     re.compile(r"(?i)([\"']?\b(?:password|passwd|secret|auth|identitytoken|registrytoken|refresh_token|"
                r"access_token)[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"',}]+"), r"\1***"),
    # JWTs wherever they appear
    (("eyj",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "***"),
    # docker login -p SECRET / --password SECRET
    (("--password", " -p "), re.compile(r"(--password[= ]|\s-p\s+)(?!-)\S+"), r"\1***"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ESCAPED_QUOTE = re.compile(r'\\+"')


def redact(text: str) -> str:
    """Mask passwords, tokens and signatures; keep everything a diagnosis needs.

    >>> redact('proxyconnect tcp: dial http://bob:s3cret@proxy:3128 Authorization: Bearer abc')
    'proxyconnect tcp: dial http://bob:***@proxy:3128 Authorization: Bearer ***'
    """
    low = text.lower()
    for triggers, rx, repl in _REDACTIONS:
        if any(t in low for t in triggers):
            text = rx.sub(repl, text)
    return text


def _clean(raw: bytes) -> str:
    """Decode, undo logrus/JSON quote escaping, drop control characters, redact."""
    text = raw.decode("utf-8", "replace").rstrip("\r")
    if "\\" in text:
        # skopeo/podman (logrus) and JSON logs escape the inner quotes of Go's `Get "…"`, and a
        # quoted error inside a quoted error (kubelet's err="…") escapes them twice
        text = _ESCAPED_QUOTE.sub('"', text)
    return redact(_CONTROL.sub("?", text))


# ------------------------------------------------------------------------------------ scanning


class Scanner:
    """Finds candidate lines in a byte stream; counts every line; keeps memory bounded.

    >>> s = Scanner()
    >>> [(n, line) for n, line, _ in s.candidates([b"ok\\nlookup x on 1.1.1.1:53: no such host\\n"])]
    [(2, b'lookup x on 1.1.1.1:53: no such host')]
    >>> s.lines
    2
    """

    def __init__(self, symptom_book: SymptomBook | None = None, *, max_line: int = MAX_LINE) -> None:
        self._gate = (symptom_book or book()).gate
        self.max_line = max_line
        self.lines = 0
        self.cut_lines = 0

    def candidates(self, chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield ``(line number, line, previous line)`` for each line the prefilter admits.

        Lines come without their newline and cut at ``max_line`` bytes.
        """
        buf = b""
        base = 1  # the line number of buf[0]
        skipping = False  # inside an over-long line whose head was already looked at
        for raw in chunks:
            chunk = raw
            if not chunk:
                continue
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                chunk = chunk[nl + 1:]
                base += 1
                skipping = False
            buf = buf + chunk if buf else chunk
            end = buf.rfind(b"\n")
            if end >= 0:
                complete, buf = buf[: end + 1], buf[end + 1:]
                yield from self._scan(complete, base)
                base += complete.count(b"\n")
            if len(buf) > self.max_line:
                # no newline for max_line bytes: judge the head once, then drop the rest
                self.cut_lines += 1
                yield from self._scan(buf[: self.max_line], base)
                buf, skipping = b"", True
        if buf or skipping:
            if buf:
                yield from self._scan(buf, base)
            base += 1
        self.lines = base - 1

    def _scan(self, block: bytes, base: int) -> Iterator[tuple[int, bytes, bytes]]:
        # Every line start counts as ": " so that anchors written ": leaf" also match a leaf
        # pasted alone; the insertion is one C-level copy, far cheaper than a per-line loop.
        aug = b": " + block.replace(b"\n", b"\n: ")
        starts: set[int] = set()
        for rx in self._gate:
            pos = 0
            while True:
                m = rx.search(aug, pos)
                if m is None:
                    break
                start = aug.rfind(b"\n", 0, m.start()) + 1
                starts.add(start)
                nl = aug.find(b"\n", m.end())
                if nl < 0:
                    break
                pos = nl + 1
        counted_to, lineno = 0, base
        for start in sorted(starts):
            lineno += aug.count(b"\n", counted_to, start)
            counted_to = start
            end = aug.find(b"\n", start)
            line = aug[start + 2: end if end >= 0 else len(aug)]
            if len(line) > self.max_line:
                self.cut_lines += 1
                line = line[: self.max_line]
            prev = b""
            if start > 0:
                prev_start = aug.rfind(b"\n", 0, start - 1) + 1
                prev = aug[prev_start + 2: start - 1][: self.max_line]
            yield lineno, line, prev


# ------------------------------------------------------------------------------------ entities

_METHOD_URL = re.compile(
    r"""(?P<method>GET|HEAD|POST|PUT|PATCH|DELETE|Get|Head|Post|Put|Patch|Delete)\s+"?"""
    r"""(?P<url>https?://[^\s"'<>]+?)"?(?=:\s|:$|"|\s|$)""")
_ANY_URL = re.compile(r"""https?://[^\s"'<>()\[\]]+""")
_PY_POOL = re.compile(r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)"
                      r"(?:: Max retries exceeded with url: (?P<path>\S+))?")
_PINGING = re.compile(r"pinging (?:container|docker) registry (?P<host>[A-Za-z0-9._-]+(?::\d+)?)")
_QUOTED_REGISTRY = re.compile(r"(?:registry login server|registry|access to registry) '(?P<host>[^'\s]+)'")
_CHECK_HEALTH = re.compile(r"check-health -n (?P<name>[A-Za-z0-9]+)")
_IMAGE_REFS = (
    re.compile(r"docker://(?P<ref>[^\s\"']+?)(?=:\s|\"|'|\s|$)"),
    re.compile(r"(?:Failed to pull image|failed to resolve reference|failed to pull and unpack image|"
               r"Error parsing image name) \"(?:docker://)?(?P<ref>[^\"\s]+)\""),
    re.compile(r"manifest for (?P<ref>\S+) not found"),
    re.compile(r"no such manifest: (?P<ref>\S+)"),
    re.compile(r"pull access denied for (?P<ref>[^\s,]+)"),
)
_READING_MANIFEST = re.compile(r"reading manifest (?P<tag>\S+) in (?P<repo>\S+?):\s")
_DIAL = re.compile(r"dial tcp (?P<address>\[[0-9A-Fa-f:.%]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9._-]+)"
                   r":(?P<port>[0-9]{1,5})")
_PEER = re.compile(r"(?:read|write) tcp \S+->(?P<address>\[[0-9A-Fa-f:.%]+\]|[0-9.]+):(?P<port>[0-9]{1,5})")
_RESOLVER = re.compile(r" on (?P<resolver>\[[0-9A-Fa-f:.%]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]+):53\b")
_PROXY_DIAL = re.compile(r"proxyconnect tcp: dial tcp (?P<address>\[[0-9A-Fa-f:.%]+\]|[^\s:]+):(?P<port>[0-9]{1,5})")
_PROXY_LOOKUP = re.compile(r"proxyconnect tcp: dial tcp: lookup (?P<host>[A-Za-z0-9._-]+)")
_PROXY_ENV = re.compile(r"(?i)\b(?:https?|all)_proxy=[\"']?(?P<proxy>[^\s\"']+)")
_PROXY_FLAG = re.compile(r"--proxy[= ](?P<proxy>\S+)")
_STATUS = (
    re.compile(r"\b(?P<status>[1-5][0-9]{2}) \((?P<text>[A-Za-z][A-Za-z ]{2,40})\)"),
    re.compile(r"(?:status code|StatusCode:|status:|Response code:|status) (?P<status>[1-5][0-9]{2})\b"),
    re.compile(r"\b(?P<status>[1-5][0-9]{2}) (?P<text>Forbidden|Unauthorized|Too Many Requests|Bad Gateway|"
               r"Service Unavailable|Gateway Timeout|Internal Server Error|Not Found|Proxy Authentication Required)"),
)
_BARE_STATUS = {"Forbidden": "403", "Bad Gateway": "502", "Service Unavailable": "503",
                "Internal Server Error": "500", "Gateway Timeout": "504", "Proxy Authentication Required": "407"}
_ACR_HOST = re.compile(r"\b[A-Za-z0-9]{5,50}(?:\.[a-z0-9]+\.(?:data|geo))?\.azurecr\.io\b", re.IGNORECASE)
_ACR_DATA = re.compile(r"^(?P<reg>[a-z0-9]+)\.(?P<region>[a-z0-9]+)\.(?:data|geo)\.azurecr\.io$")
_REASONS = re.compile(r"\[(?:Errno|WinError) (?P<num>-?\d+)\] (?P<text>[^'\")\]]+)")


def _strip_brackets(value: str) -> str:
    return value[1:-1] if value.startswith("[") and value.endswith("]") else value


def _host_port(url: str) -> tuple[str | None, int | None, str, str]:
    """Host, port, scheme and path of a URL, tolerating junk (``(None, None, "", "")``)."""
    try:
        parts = urlsplit(url.rstrip(":.,;"))
        host, port = parts.hostname, parts.port
    except ValueError:
        return None, None, "", ""
    return host, port, parts.scheme, parts.path


def _image(ref: str) -> dict[str, Any]:
    """Registry host, repository and reference of an image ref, if it parses."""
    try:
        t = parse_target(ref.rstrip(":,."))
    except BadReference:
        return {}
    out: dict[str, Any] = {"registry_host": t.host}
    if t.port != 443:
        out["registry_port"] = t.port
    if t.repository:
        out["repository"] = t.repository
        out["reference"] = t.reference
    return out


@dataclass
class _Line:
    """Working state while one candidate line is read (mutable; never leaves this module)."""

    text: str
    prev: str
    entities: dict[str, Any] = field(default_factory=dict)
    urls: list[tuple[int, int, str, str]] = field(default_factory=list)  # (start, end, method, url)


def _extract(text: str, prev: str) -> _Line:
    """The generic entities of a line (symptom groups add and override later)."""
    ln = _Line(text, prev)
    e = ln.entities
    ln.urls = [(m.start(), m.end(), m.group("method").upper(), m.group("url")) for m in _METHOD_URL.finditer(text)]
    for src in (text, prev):
        if "registry_host" not in e:
            m = _PINGING.search(src)
            if m:
                hp = m.group("host")
                host, _, port = hp.partition(":")
                e["registry_host"] = host.lower()
                if port:
                    e["registry_port"] = int(port)
        for rx in _IMAGE_REFS:
            if "repository" in e:
                break
            m = rx.search(src)
            if m:
                for k, v in _image(m.group("ref")).items():
                    e.setdefault(k, v)
        if "repository" not in e:
            m = _READING_MANIFEST.search(src)
            if m:
                for k, v in _image(f"{m.group('repo')}:{m.group('tag')}").items():
                    e.setdefault(k, v)
        if "registry_host" not in e:
            m = _QUOTED_REGISTRY.search(src)
            if m:
                e["login_server"] = m.group("host").lower()
    m = _PY_POOL.search(text)
    if m:
        e["python_host"] = m.group("host").lower()
        e["python_url"] = (f"{m.group('scheme').lower()}://{m.group('host')}:{m.group('port')}"
                           f"{m.group('path') or '/'}")
    m = _CHECK_HEALTH.search(text)
    if m:
        e["registry_name"] = m.group("name").lower()
    m = _PROXY_DIAL.search(text)
    if m:
        e["proxy_address"] = f"{m.group('address')}:{m.group('port')}"
    m = _PROXY_LOOKUP.search(text)
    if m:
        e["proxy_host"] = m.group("host").lower()
    m = _PROXY_ENV.search(text) or _PROXY_FLAG.search(text)
    if m:
        e["proxy"] = m.group("proxy")
    for m in _DIAL.finditer(text):
        if text[max(0, m.start() - 18): m.start()].endswith("proxyconnect tcp: "):
            continue  # that address is the proxy's, not the registry's
        e["address"], e["port"] = _strip_brackets(m.group("address")), int(m.group("port"))
    if "address" not in e:
        m = _PEER.search(text)
        if m:
            e["address"], e["port"] = _strip_brackets(m.group("address")), int(m.group("port"))
    m = _RESOLVER.search(text)
    if m:
        e["resolver"] = _strip_brackets(m.group("resolver"))
    for rx in _STATUS:
        m = rx.search(text)
        if m:
            e["status"] = m.group("status")
            if "text" in rx.groupindex and m.group("text"):
                e["status_text"] = m.group("text").strip()
            break
    m = _REASONS.search(text)
    if m:
        e["errno_text"] = m.group("text").strip()
    return ln


# ------------------------------------------------------------------------------------ matching


@dataclass(frozen=True)
class LineMatch:
    """One line recognised: its primary symptom, the ranked codes, and what was extracted."""

    lineno: int
    symptom: str
    matched: str
    #: (code, confidence), best first; the first is the primary
    ranked: tuple[tuple[Code, float], ...]
    entities: Mapping[str, Any]
    notes: tuple[str, ...]
    line: str

    @property
    def code(self) -> Code:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]


def _conditions(ln: _Line, leaf_url: str | None, proxied: bool, bk: SymptomBook) -> frozenset[str]:
    e, text = ln.entities, ln.text
    ctx = bk.context
    conds: set[str] = set()
    hosts = [h for h in (e.get("host"), e.get("registry_host"), e.get("login_server"), e.get("python_host"),
                         e.get("url_host")) if isinstance(h, str)]
    if any(h.lower().endswith(".azurecr.io") for h in hosts) or _ACR_HOST.search(text) or "aka.ms/acr" in text:
        conds.add("acr")
    if proxied or any(m in text for m in ctx.proxy_markers) or "proxy" in e or "proxy_address" in e:
        conds.add("proxy")
    if any(m in text or m in ln.prev for m in ctx.manifest_markers):
        conds.add("manifest")
    if any(m in text for m in ctx.realm_markers) or (leaf_url is not None and _is_realm_path(leaf_url)):
        conds.add("token")
    if leaf_url is not None and leaf_url.startswith("http://"):
        conds.add("http_url")
    names = " ".join(str(e.get(k, "")) for k in ("issuer", "cert_names", "tls_error")).lower()
    if names.strip() and any(n in names for n in bk.interception):
        conds.add("interception")
    status = e.get("status")
    if status in ("401", "403", "404", "429"):
        conds.add(f"status_{status}")
    return frozenset(conds)


def _is_realm_path(url: str) -> bool:
    _, _, _, path = _host_port(url)
    return roles.table().is_realm_path(path)


def _role(ln: _Line, m: re.Match[str], bk: SymptomBook) -> tuple[str, str | None]:
    """Which endpoint failed: ``registry``, ``data`` or ``realm``, and the URL that says so.

    The failing URL is the innermost one before the leaf (Go nests ``Get "a": Get "b": leaf``),
    or one inside the match itself (``unexpected status code URL: 403``), never one inside the
    server's own message (Docker Hub's text ends with a link to its docs).
    """
    ctx = bk.context
    e = ln.entities
    leaf_at = m.start()
    inside_end = m.start("message") if "message" in m.re.groupindex and m.group("message") else m.end()
    before = [u for u in ln.urls if u[0] <= leaf_at] or [u for u in ln.urls if u[0] < inside_end]
    leaf_url = before[-1][3] if before else None
    if leaf_url is None:
        plain = [u.group(0) for u in _ANY_URL.finditer(ln.text) if u.start() < inside_end]
        leaf_url = plain[-1] if plain else e.get("python_url")
    registry_host = e.get("registry_host") or e.get("login_server")
    if registry_host is None:
        # only a registry API URL (/v2/…) names the registry; a blob URL may be a CDN's
        for _, _, _, url in ln.urls:
            h, _, _, p = _host_port(url)
            if h and p.startswith("/v2/") and roles.table().role_of_host(h) is None:
                registry_host = h
                break
    if registry_host is None and isinstance(e.get("python_host"), str):
        registry_host = e["python_host"]
    if isinstance(registry_host, str):
        e.setdefault("registry_host", registry_host)
    host: str | None = None
    port: int | None = None
    path = ""
    if leaf_url is not None:
        host, port, scheme, path = _host_port(leaf_url)
        e["url"] = leaf_url
        method = next((u[2] for u in reversed(before) if u[3] == leaf_url), None)
        if method:
            e["method"] = method
        if host:
            e["url_host"] = host
            e["url_port"] = port or (80 if scheme == "http" else 443)
            e["path"] = path or "/"
    blob_op = any(m in ln.text[:max(leaf_at, 0)] or m in ln.prev for m in ctx.data_markers)
    if host is not None:
        host_role = roles.table().role_of_host(host)
        if host_role == "data":
            return "data", leaf_url
        # a token or blob URL is a separate endpoint when its host *or port* differs from the
        # registry's (a token service on another port of the same name is still another service)
        reg_port = e.get("registry_port") or (e.get("url_port") if registry_host == host else None) or 443
        separate = registry_host is not None and (host, port or 443) != (registry_host, reg_port)
        if acr_name(host) and not _ACR_DATA.match(host):
            separate = False  # an ACR login server is its own token service
        if host_role == "realm" or (separate and leaf_url is not None and _is_realm_path(leaf_url)):
            return "realm", leaf_url
        # The registry API lives under /v2/; a blob URL elsewhere is a storage or CDN host the
        # registry redirected to, even one the host list does not know
        redirected_blob = "/blobs/" in path and not path.startswith("/v2/")
        if (redirected_blob or (blob_op and (separate or not path.startswith("/v2/")))) and "/manifests/" not in path:
            return "data", leaf_url
        return "registry", leaf_url
    return ("data" if blob_op else "registry"), leaf_url


def _symptom_entities(sym: Symptom, m: re.Match[str], e: dict[str, Any]) -> None:
    for name, raw in m.groupdict().items():
        if raw is None:
            continue
        value = raw.strip()
        if name in ("address", "resolver"):
            value = _strip_brackets(value)
        if name == "host":
            e["host"] = value.lower().rstrip(".")
        elif name == "port":
            e["port"] = int(value)
        elif name == "login_server":
            e["login_server"] = value.lower()
            e.setdefault("registry_host", value.lower())
        elif name == "image":
            for k, v in _image(value).items():
                e.setdefault(k, v)
        elif name == "arch":
            e["platform"] = value
        elif name == "repository":
            e["repository"] = value
        else:
            e[name] = value


def _score(sym: Symptom, ln: _Line, m: re.Match[str], bk: SymptomBook
           ) -> tuple[list[tuple[Code, float]], dict[str, Any]]:
    """Ranked (code, confidence) for one symptom match, after the outside-in reading."""
    e = ln.entities
    leaf_at = m.start()
    role, leaf_url = _role(ln, m, bk)
    proxied = any(mk in ln.text[:leaf_at] for mk in bk.context.proxy_markers)
    conds = _conditions(ln, leaf_url, proxied, bk)
    ranked = [(c.code, c.score(conds)) for c in sym.candidates]
    facts: dict[str, Any] = {"role": role}
    if proxied and sym.on_proxy:
        # behind `proxyconnect tcp:` the leaf is the hop to the proxy: the registry was never reached
        ranked[0] = (sym.on_proxy, ranked[0][1])
        facts["via_proxy"] = True
        if "address" in e:
            # the address in the leaf is the proxy's, not the registry's
            address, port = e.pop("address"), e.pop("port", None)
            e.setdefault("proxy_address", f"{address}:{port}" if port else address)
        if "host" in e and sym.on_proxy == Code.PROXY_UNRESOLVABLE:
            e["proxy_host"] = e.pop("host")
    if role in ("data", "realm"):
        top, conf = ranked[0]
        info = kb.code(top)
        new = roles.table().wrap(role, top)  # the same rule diagnose() applies to a probed endpoint
        if new is not None:
            facts.update(blocked_code=top, blocked_layer=info.layer, blocked_summary=info.title)
            rest = [(c, s) for c, s in ranked[1:] if c != new]
            # the mechanism (e.g. TCP_TIMEOUT) stays as a lower alternative: `check` would show it
            # as the failing step of that endpoint
            ranked = [(new, conf), (top, round(conf * 0.5, 3)), *rest]
    # one code once, best score kept; best first (stable for ties: the file's order)
    best: dict[Code, float] = {}
    for code, score in ranked:
        if score > best.get(code, -1.0):
            best[code] = score
    return sorted(best.items(), key=lambda cs: -cs[1]), facts


def _fingerprints(text: str, prev: str, bk: SymptomBook) -> dict[str, Any]:
    client: str | None = None
    bounds: dict[str, list[tuple[int, ...] | None]] = {}
    facts: list[str] = []
    for fp in bk.fingerprints:
        src = text if fp.anchor in text else (prev if fp.anchor in prev else None)
        if src is None or (fp.regex is not None and not fp.regex.search(src)):
            continue
        if fp.client and client is None:
            client = fp.client
        if fp.library:
            lo_hi = bounds.setdefault(fp.library, [None, None])
            if fp.min is not None and (lo_hi[0] is None or fp.min > lo_hi[0]):
                lo_hi[0] = fp.min
            if fp.max is not None and (lo_hi[1] is None or fp.max < lo_hi[1]):
                lo_hi[1] = fp.max
        if fp.fact and fp.fact not in facts:
            facts.append(fp.fact)
    out: dict[str, Any] = {}
    if client:
        out["client"] = client
    versions = [_version_text(lib, lo, hi) for lib, (lo, hi) in bounds.items()]
    if versions:
        out["client_version"] = versions
    if facts:
        out["client_facts"] = facts
    return out


def _version_text(lib: str, lo: tuple[int, ...] | None, hi: tuple[int, ...] | None) -> str:
    def v(t: tuple[int, ...]) -> str:
        return ".".join(str(p) for p in t)

    if lo is not None and hi is not None:
        if lo > hi:
            return f"{lib} (conflicting hints: ≥ {v(lo)} and ≤ {v(hi)})"
        return f"{lib} {v(lo)}" if lo == hi else f"{lib} {v(lo)}–{v(hi)}"
    if lo is not None:
        return f"{lib} ≥ {v(lo)}"
    return f"{lib} ≤ {v(hi)}" if hi is not None else lib


def match_line(text: str, *, lineno: int = 1, prev: str = "", strict: bool = False,
               symptom_book: SymptomBook | None = None) -> LineMatch | None:
    """Recognise one (already redacted) line, or ``None``.

    ``strict`` (a log, not a pasted message): a generic network text (one that is not
    ``standalone``) counts only when the line or the one before shows a registry context.

    >>> m = match_line('Get "https://r.lab.test/v2/": dial tcp: lookup r.lab.test on 10.0.0.2:53: no such host')
    >>> (m.code, m.entities["host"], m.entities["resolver"])
    ('DNS_NXDOMAIN', 'r.lab.test', '10.0.0.2')
    """
    bk = symptom_book or book()
    probe = ": " + text
    tried: set[int] = set()
    hits: list[tuple[Symptom, re.Match[str]]] = []
    for anchor, indices in bk.by_anchor.items():
        if anchor not in probe:
            continue
        for i in indices:
            if i in tried:
                continue
            tried.add(i)
            sym = bk.symptoms[i]
            m = sym.regex.search(text)
            if m is not None:
                hits.append((sym, m))
    if not hits:
        return None
    if (strict and not any(h[0].standalone for h in hits)
            and not any(hint in text for hint in bk.context.registry_hints)):
        return None
    specific = [h for h in hits if not h[0].fallback]
    hits = specific or hits
    ln = _extract(text, prev)
    results = []
    for sym, m in hits:
        _symptom_entities(sym, m, ln.entities)
    for sym, m in hits:
        ranked, facts = _score(sym, ln, m, bk)
        results.append((sym, m, ranked, facts))
    # The line's primary symptom is the one most sure of its top code; the others add evidence:
    # every code keeps the best confidence any matching symptom gives it.
    results.sort(key=lambda r: -r[2][0][1])
    sym, m, ranked, facts = results[0]
    merged: dict[Code, float] = {}
    for _, _, rk, _ in results:
        for code, score in rk:
            merged[code] = max(merged.get(code, 0.0), score)
    order = sorted(merged.items(), key=lambda cs: -cs[1])
    entities = {k: v for k, v in ln.entities.items() if v not in (None, "")}
    entities.update({k: v for k, v in facts.items() if k != "role"})
    entities["endpoint_role"] = facts["role"]
    entities.update(_fingerprints(text, prev, bk))
    _acr_entities(entities)
    notes = tuple(s.note for s, _, _, _ in results if s.note)
    return LineMatch(lineno=lineno, symptom=sym.id, matched=m.group(0).strip(), ranked=tuple(order),
                     entities=entities, notes=notes, line=text)


def _acr_entities(e: dict[str, Any]) -> None:
    for key in ("url_host", "host", "registry_host", "login_server"):
        h = e.get(key)
        if not isinstance(h, str):
            continue
        m = _ACR_DATA.match(h.lower())
        if m:
            e.setdefault("registry", m.group("reg"))
            e.setdefault("region", m.group("region"))
        name = acr_name(h)
        if name:
            e.setdefault("registry", name)
    if "registry" not in e and isinstance(e.get("registry_name"), str):
        e["registry"] = e["registry_name"]


# ------------------------------------------------------------------------------------ findings


@dataclass(frozen=True)
class Group:
    """Every line of one symptom on one host: the unit of ``explain --file`` output."""

    symptom: str
    code: Code
    layer: str
    host: str | None
    count: int
    first_line: int
    last_line: int
    #: the matched text of the group's first line, and that line (both redacted, cut)
    matched: str
    sample: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Explanation:
    """What ``explain`` concluded from a text: findings best first, groups, entity summary."""

    findings: tuple[Finding, ...]
    groups: tuple[Group, ...]
    entities: Mapping[str, Any]
    lines: int
    matched_lines: int
    cut_lines: int

    @property
    def recognised(self) -> bool:
        return bool(self.findings)

    def extra(self) -> dict[str, Any]:
        """The keys ``explain --json`` adds beside the findings (SPEC: additive)."""
        return {
            "input": {"lines": self.lines, "matched_lines": self.matched_lines, "cut_lines": self.cut_lines},
            "entities": dict(self.entities),
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass
class _Acc:
    first: LineMatch
    count: int
    last_line: int


def _finding_host(code: Code, e: Mapping[str, Any]) -> str | None:
    layer = kb.code(code).layer
    keys: tuple[str, ...]
    if layer == "proxy":
        # proxy texts name the CONNECT target as {host}; the proxy has its own placeholders
        keys = ("registry_host", "url_host", "login_server", "python_host")
    elif layer in ("data", "auth") and e.get("endpoint_role") in ("data", "realm"):
        keys = ("url_host", "host", "registry_host")
    else:
        keys = ("host", "url_host", "registry_host", "login_server", "python_host")
    for k in keys:
        v = e.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def _template_values(code: Code, host: str | None, e: Mapping[str, Any], matched: str, bk: SymptomBook
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(evidence, extra): evidence holds what the text showed; extra fills the rest of the templates."""
    info = kb.code(code)
    evidence: dict[str, Any] = {}
    for k, v in e.items():
        if isinstance(v, str | int | float | bool | list) and k not in ("python_url",):
            evidence[k] = v
    derived: dict[str, Any] = {}
    port = e.get("url_port") if e.get("url_host") == host else None
    port = port or e.get("registry_port") or e.get("port") if host else port
    if isinstance(port, int):
        derived["port"] = port
    if host:
        derived["host_port"] = host if port in (None, 443) else f"{host}:{port}"
    rh = e.get("registry_host") or e.get("login_server")
    if rh:
        derived["registry_host"] = rh
    if "registry" in e:
        derived["registry"] = e["registry"]
    status = e.get("status") or _BARE_STATUS.get(str(e.get("status_text", "")))
    if status:
        derived["status"] = status
        text = e.get("status_text") or ""
        derived["status_line"] = f"{status} {text}".strip()
    if e.get("endpoint_role") == "realm" and e.get("url"):
        derived["realm"] = str(e["url"]).split("?", 1)[0]
        derived["realm_host"] = e.get("url_host")
        derived["realm_port"] = e.get("url_port")
    if "message" not in e and info.layer in ("http", "auth", "registry", "data", "config"):
        derived["message"] = matched
    if "page_title" in e:
        derived["page_title_note"] = f" titled \u201c{e['page_title']}\u201d"
    if "proxy_address" not in e and "proxy" in e:
        h, p, _, _ = _host_port(str(e["proxy"]) if "://" in str(e["proxy"]) else f"http://{e['proxy']}")
        if h:
            derived["proxy_address"] = f"{h}:{p}" if p else h
    if info.layer == "data" and not host:
        derived["host"] = "the data endpoint (blob storage or CDN host)"
    extra = {k: v for k, v in derived.items() if k not in evidence}
    for k, v in bk.unknown_values.items():
        if k not in evidence and k not in extra:
            extra[k] = v
    return evidence, extra


_CODE_SPAN = re.compile(r"`[^`]*`")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _soften(template: str, known: set[str], host_known: bool, bk: SymptomBook) -> str:
    """Rewrite a catalogue template around the placeholders the text did not reveal.

    Phrases first (``within {timeout_s} s`` -> ``in time``), then, inside `code spans`, each
    unknown placeholder becomes a <token> so a command reads as a template to fill in.

    >>> _soften("Run `dig @{resolver} {host}` within {timeout_s} s", {"host"}, True, book())
    'Run `dig @<resolver> {host}` in time'
    """
    for p in bk.unknown_phrases:
        if p.trigger in known or p.frm not in template:
            continue
        if (p.when == "host" and not host_known) or (p.when == "no_host" and host_known):
            continue
        template = template.replace(p.frm, p.to)

    def code(m: re.Match[str]) -> str:
        def token(t: re.Match[str]) -> str:
            name = t.group(1)
            if name in known:
                return t.group(0)
            return bk.unknown_code.get(name, "<" + name.replace("_", "-") + ">")

        return _PLACEHOLDER.sub(token, m.group(0))

    return _CODE_SPAN.sub(code, template)


def _confirm(code: Code, e: Mapping[str, Any]) -> str:
    """The ``regdoctor check`` command that would show this finding live."""
    layer = kb.code(code).layer
    registry_host = e.get("registry_host") or e.get("login_server")
    host = registry_host
    if not host and e.get("endpoint_role") == "registry":
        host = e.get("url_host") or e.get("host") or e.get("python_host")
    if not host and layer not in ("data",):
        host = e.get("host") if e.get("endpoint_role") != "data" else None
    if not host and e.get("registry"):
        host = f"{e['registry']}.azurecr.io"
    if not host:
        # without a registry name, `check` examines every registry of the Docker config
        return "regdoctor check"
    repo = e.get("repository")
    name = acr_name(str(host))
    # the short ACR name goes through -n (a bare word is a Docker Hub image), only without a repository
    short = name if name and str(host).endswith(".azurecr.io") and not repo and layer not in ("data", "registry") \
        else None
    target = f"-n {short}" if short else str(host)  # az's convention: a bare word is a Docker Hub image
    port = e.get("registry_port")
    if port is None and e.get("url_host") == host:
        port = e.get("url_port")
    if port is None and e.get("host") == host and isinstance(e.get("port"), int):
        port = e.get("port")
    scheme_http = str(e.get("url", "")).startswith("http://")
    if isinstance(port, int) and port != (80 if scheme_http else 443):
        target = f"{host}:{port}"
    if repo:
        ref = str(e.get("reference") or "latest")
        target += f"/{repo}{'@' if ref.startswith('sha256:') else ':'}{ref}"
    elif layer in ("data", "registry"):
        # blob redirects and manifests are only probed for an image
        target += "/<repository>:<tag>"
    parts = ["regdoctor", "check", target]
    if e.get("region") and layer == "data":
        parts += ["--region", str(e["region"])]
    proxy = e.get("proxy")
    if layer == "proxy" or e.get("via_proxy"):
        if isinstance(proxy, str):
            # a redacted password stays a placeholder the user fills in
            parts += ["--proxy", proxy.replace(":***@", ":PASSWORD@")]
        elif e.get("proxy_address"):
            parts += ["--proxy", f"http://{e['proxy_address']}"]
    if scheme_http and layer in ("http", "registry", "auth"):
        parts.append("--plain-http")
    return " ".join(parts)


def _advice(code: Code, line: str, prev: str, bk: SymptomBook) -> list[str]:
    layer = kb.code(code).layer
    return [a.text for a in bk.advice
            if layer in a.layers and any(w in line or w in prev for w in a.when)]


def _build_finding(code: Code, conf: float, acc: _Acc, *, alternative: bool, multi: bool, bk: SymptomBook
                   ) -> Finding:
    lm = acc.first
    e = dict(lm.entities)
    host = _finding_host(code, e)
    evidence, extra = _template_values(code, host, e, lm.matched, bk)
    evidence["symptom"] = lm.symptom
    if multi or acc.count > 1:
        evidence.update(count=acc.count, first_line=lm.lineno, last_line=acc.last_line)
    if alternative:
        evidence["alternative_to"] = lm.code
    info = kb.code(code)
    known = set(evidence) | {k for k, v in extra.items() if k not in bk.unknown_values or v != bk.unknown_values[k]}
    if host:
        known.add("host")
    else:
        known.discard("host")  # a data finding's placeholder phrase is prose, not a name
    info = dataclasses.replace(info, cause=_soften(info.cause, known, bool(host), bk),
                               fix=_soften(info.fix, known, bool(host), bk))
    f = info.finding(host=host, evidence=evidence, extra=extra)
    if host is None and f.cause[:1].islower():  # "{host} answered …" became "the registry answered …"
        f = dataclasses.replace(f, cause=f.cause[0].upper() + f.cause[1:])
    notes = [] if alternative else list(lm.notes)
    notes += _advice(code, lm.line, "", bk)
    fix = " ".join([f.fix, *notes]) if notes else f.fix
    return dataclasses.replace(f, fix=fix, confidence=conf, matched=lm.matched, confirm=_confirm(code, e))


def _summary(matches: Sequence[LineMatch]) -> dict[str, Any]:
    lists: dict[str, list[Any]] = {}

    def add(key: str, value: Any) -> None:
        if value in (None, ""):
            return
        bucket = lists.setdefault(key, [])
        if value not in bucket and len(bucket) < MAX_LIST:
            bucket.append(value)

    for lm in matches:
        e = lm.entities
        for key in ("registry_host", "url_host", "host", "login_server", "python_host"):
            add("hosts", e.get(key))
        add("proxy_hosts", e.get("proxy_host"))
        add("addresses", e.get("address"))
        add("ports", e.get("port"))
        add("resolvers", e.get("resolver"))
        add("proxies", e.get("proxy_address") or e.get("proxy"))
        add("statuses", e.get("status"))
        add("client_ips", e.get("client_ip"))
        add("acr_registries", e.get("registry"))
        add("regions", e.get("region"))
        add("clients", e.get("client"))
        for v in e.get("client_version", []):
            add("client_versions", v)
        for v in e.get("client_facts", []):
            add("client_facts", v)
        add("repositories", e.get("repository"))
    return lists


class _Collector:
    """Groups line matches; bounded in the number of groups it keeps."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, str | None], _Acc] = {}
        self.samples: list[LineMatch] = []
        self.matched_lines = 0

    def add(self, lm: LineMatch) -> None:
        self.matched_lines += 1
        host = _finding_host(lm.code, lm.entities) or (str(lm.entities["address"]) if "address" in lm.entities
                                                        else None)
        key = (lm.symptom, lm.code, host)
        acc = self.groups.get(key)
        if acc is None and len(self.groups) >= MAX_GROUPS:
            # an adversarial log with endless distinct hosts: fold into the symptom's first group
            acc = next((a for k, a in self.groups.items() if k[0] == lm.symptom and k[1] == lm.code), None)
            if acc is None:
                return
        if acc is None:
            self.groups[key] = _Acc(lm, 1, lm.lineno)
            if len(self.samples) < MAX_GROUPS:
                self.samples.append(lm)
        else:
            acc.count += 1
            acc.last_line = lm.lineno


def _explain(col: _Collector, lines: int, cut: int, bk: SymptomBook) -> Explanation:
    accs = sorted(col.groups.values(), key=lambda a: a.first.lineno)
    multi = len(accs) > 1
    made: dict[tuple[str, str | None], tuple[Finding, bool, int]] = {}
    for acc in accs:
        for rank, (code, conf) in enumerate(acc.first.ranked[: MAX_ALTERNATIVES + 1]):
            f = _build_finding(code, conf, acc, alternative=rank > 0, multi=multi, bk=bk)
            key = (f.code, f.host)
            old = made.get(key)
            # a primary beats an alternative of the same code and host; else the surer one wins
            if old is None or (old[1] and rank == 0) or (old[1] == (rank > 0) and conf > (old[0].confidence or 0)):
                made[key] = (f, rank > 0, acc.first.lineno)
    primaries = {(f.code, f.host) for f, alt, _ in made.values() if not alt}
    out: list[tuple[Finding, bool, int]] = []
    for f, alt, first in made.values():
        # a code that another finding's code explains (catalogue `explains`) is its consequence
        caused = any(f.code in kb.code(c).explains and h == f.host for c, h in primaries if c != f.code)
        out.append((dataclasses.replace(f, root_cause=not caused), alt, first))
    # render.findings_sorted orders by (root cause first, severity); this key refines it, so the
    # renderers keep this order: within those, primaries before alternatives, surest first
    out.sort(key=lambda t: (not t[0].root_cause, _SEVERITY_RANK[t[0].severity], t[1], -(t[0].confidence or 0),
                            t[2]))
    groups = tuple(
        Group(symptom=a.first.symptom, code=a.first.code, layer=kb.code(a.first.code).layer,
              host=_finding_host(a.first.code, a.first.entities), count=a.count, first_line=a.first.lineno,
              last_line=a.last_line, matched=a.first.matched[:SAMPLE_CHARS], sample=a.first.line[:SAMPLE_CHARS],
              confidence=a.first.confidence)
        for a in accs)
    return Explanation(findings=tuple(f for f, _, _ in out), groups=groups, entities=_summary(col.samples),
                       lines=lines, matched_lines=col.matched_lines, cut_lines=cut)


class _Plausible:
    """Strict mode's cheap test on raw bytes, before any decoding: can this line count at all?

    A line counts when it shows a registry context, or when it carries the anchor of a
    ``standalone`` (registry-specific) symptom. Most near misses in a node's log (other services'
    timeouts and resets) stop here at the cost of two substring scans.
    """

    def __init__(self, bk: SymptomBook) -> None:
        self._hints = re.compile(alternation([h.encode() for h in bk.context.registry_hints]))
        anchors = {a.encode() for s in bk.symptoms if s.standalone for a in s.anchors}
        self._standalone = re.compile(alternation(sorted(anchors)))

    def __call__(self, raw: bytes) -> bool:
        return self._hints.search(raw) is not None or self._standalone.search(b": " + raw) is not None


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
    scanner = Scanner(bk, max_line=max_line)
    col = _Collector()  # keeps groups, not lines: memory stays bounded for any log
    plausible = _Plausible(bk) if strict else None
    for lineno, raw, prev in scanner.candidates(chunks):
        if plausible is not None and not plausible(raw):
            continue
        lm = match_line(_clean(raw), lineno=lineno, prev=_clean(prev) if prev else "", strict=strict,
                        symptom_book=bk)
        if lm is not None:
            col.add(lm)
    return _explain(col, scanner.lines, scanner.cut_lines, bk)


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
