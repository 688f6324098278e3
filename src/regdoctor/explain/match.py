"""Matching: one line -> its primary symptom and the ranked codes it can mean.

The line is read outside-in (see the package docstring): the leaf found by the symptom patterns,
the endpoint role from the URL before it (``kb.roles``), conditions from the entities.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regdoctor import kb
from regdoctor.explain.entities import (
    ACR_DATA,
    ACR_HOST,
    ANY_URL,
    LineState,
    acr_entities,
    extract,
    fingerprints,
    host_port,
    image_entities,
    strip_brackets,
)
from regdoctor.kb import roles
from regdoctor.kb.codes import Code
from regdoctor.kb.symptoms import Symptom, SymptomBook, book
from regdoctor.target import acr_name


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


def _conditions(ln: LineState, leaf_url: str | None, proxied: bool, bk: SymptomBook) -> frozenset[str]:
    e, text = ln.entities, ln.text
    ctx = bk.context
    conds: set[str] = set()
    hosts = [h for h in (e.get("host"), e.get("registry_host"), e.get("login_server"), e.get("python_host"),
                         e.get("url_host")) if isinstance(h, str)]
    if any(h.lower().endswith(".azurecr.io") for h in hosts) or ACR_HOST.search(text) or "aka.ms/acr" in text:
        conds.add("acr")
    if proxied or any(m in text for m in ctx.proxy_markers) or "proxy" in e or "proxy_address" in e:
        conds.add("proxy")
    if any(m in text or m in ln.prev for m in ctx.manifest_markers):
        conds.add("manifest")
    if any(m in text for m in ctx.realm_markers) or (leaf_url is not None and is_realm_path(leaf_url)):
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


def is_realm_path(url: str) -> bool:
    _, _, _, path = host_port(url)
    return roles.table().is_realm_path(path)


def _role(ln: LineState, m: re.Match[str], bk: SymptomBook) -> tuple[str, str | None]:
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
        plain = [u.group(0) for u in ANY_URL.finditer(ln.text) if u.start() < inside_end]
        leaf_url = plain[-1] if plain else e.get("python_url")
    registry_host = e.get("registry_host") or e.get("login_server")
    if registry_host is None:
        # only a registry API URL (/v2/…) names the registry; a blob URL may be a CDN's
        for _, _, _, url in ln.urls:
            h, _, _, p = host_port(url)
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
        host, port, scheme, path = host_port(leaf_url)
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
        if acr_name(host) and not ACR_DATA.match(host):
            separate = False  # an ACR login server is its own token service
        if host_role == "realm" or (separate and leaf_url is not None and is_realm_path(leaf_url)):
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
            value = strip_brackets(value)
        if name == "host":
            e["host"] = value.lower().rstrip(".")
        elif name == "port":
            e["port"] = int(value)
        elif name == "login_server":
            e["login_server"] = value.lower()
            e.setdefault("registry_host", value.lower())
        elif name == "image":
            for k, v in image_entities(value).items():
                e.setdefault(k, v)
        elif name == "arch":
            e["platform"] = value
        elif name == "repository":
            e["repository"] = value
        else:
            e[name] = value


def _score(sym: Symptom, ln: LineState, m: re.Match[str], bk: SymptomBook
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
    ln = extract(text, prev)
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
    entities.update(fingerprints(text, prev, bk))
    acr_entities(entities)
    notes = tuple(s.note for s, _, _, _ in results if s.note)
    return LineMatch(lineno=lineno, symptom=sym.id, matched=m.group(0).strip(), ranked=tuple(order),
                     entities=entities, notes=notes, line=text)


