"""Findings: one symptom group's code -> a catalogue finding with its texts filled from the line.

A text rarely shows every value a catalogue template names; the unknown ones are rewritten
(``kb/symptoms.toml [unknown]``) so a finding always reads as a sentence and a command as a
template to fill in. ``confirm`` is the ``regdoctor check`` command that would show it live.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regdoctor import kb
from regdoctor.explain.entities import BARE_STATUS, host_port
from regdoctor.explain.match import LineMatch
from regdoctor.kb import roles
from regdoctor.kb.codes import Code
from regdoctor.kb.symptoms import SymptomBook
from regdoctor.model import Finding
from regdoctor.target import acr_name


@dataclass
class Acc:
    first: LineMatch
    count: int
    last_line: int


def finding_host(code: Code, e: Mapping[str, Any]) -> str | None:
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


def _evidence(e: Mapping[str, Any]) -> dict[str, Any]:
    """The entities a finding shows as evidence: plain values the text held."""
    return {k: v for k, v in e.items() if isinstance(v, str | int | float | bool | list) and k not in ("python_url",)}


def _derive_address(derived: dict[str, Any], host: str | None, e: Mapping[str, Any]) -> None:
    """Port, ``host:port`` and the registry the templates name."""
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


def _derive_answer(derived: dict[str, Any], layer: str, e: Mapping[str, Any], matched: str) -> None:
    """The status line, the token realm and the server's message the templates quote."""
    status = e.get("status") or BARE_STATUS.get(str(e.get("status_text", "")))
    if status:
        derived["status"] = status
        text = e.get("status_text") or ""
        derived["status_line"] = f"{status} {text}".strip()
    if e.get("endpoint_role") == "realm" and e.get("url"):
        derived["realm"] = str(e["url"]).split("?", 1)[0]
        derived["realm_host"] = e.get("url_host")
        derived["realm_port"] = e.get("url_port")
    if "message" not in e and layer in ("http", "auth", "registry", "data", "config"):
        derived["message"] = matched
    if "page_title" in e:
        derived["page_title_note"] = f" titled \u201c{e['page_title']}\u201d"


def _derive_proxy(derived: dict[str, Any], e: Mapping[str, Any]) -> None:
    """The proxy's ``host:port`` from a proxy URL the text showed (``HTTPS_PROXY=…``, ``--proxy``)."""
    if "proxy_address" not in e and "proxy" in e:
        h, p, _, _ = host_port(str(e["proxy"]) if "://" in str(e["proxy"]) else f"http://{e['proxy']}")
        if h:
            derived["proxy_address"] = f"{h}:{p}" if p else h


def _template_values(code: Code, host: str | None, e: Mapping[str, Any], matched: str, bk: SymptomBook
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(evidence, extra): evidence holds what the text showed; extra fills the rest of the templates."""
    info = kb.code(code)
    evidence = _evidence(e)
    derived: dict[str, Any] = {}
    _derive_address(derived, host, e)
    _derive_answer(derived, info.layer, e, matched)
    _derive_proxy(derived, e)
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

    >>> from regdoctor.kb.symptoms import book
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


def _owning_registry(e: Mapping[str, Any]) -> str | None:
    """The registry that owns a data or token host of the text (Docker Hub's CDN, GHCR's blob host…)."""
    for key in ("url_host", "host"):
        owned = e.get(key)
        if isinstance(owned, str) and roles.table().registry_of(owned):
            return roles.table().registry_of(owned)
    return None


def _confirm_host(layer: str, e: Mapping[str, Any]) -> Any:
    """The host a confirming ``regdoctor check`` probes: the registry's, never a data host's own."""
    host = e.get("registry_host") or e.get("login_server")
    if not host and e.get("endpoint_role") == "registry":
        host = e.get("url_host") or e.get("host") or e.get("python_host")
    if not host and layer not in ("data",):
        host = e.get("host") if e.get("endpoint_role") != "data" else None
    if not host and e.get("registry"):
        host = f"{e['registry']}.azurecr.io"
    return host or _owning_registry(e)


def _confirm_port(host: Any, e: Mapping[str, Any]) -> Any:
    port = e.get("registry_port")
    if port is None and e.get("url_host") == host:
        port = e.get("url_port")
    if port is None and e.get("host") == host and isinstance(e.get("port"), int):
        port = e.get("port")
    return port


def _confirm_target(host: Any, layer: str, e: Mapping[str, Any], scheme_http: bool) -> str:
    """What ``check`` is given: ``-n NAME``, ``host[:port]``, then the image when one is known or needed."""
    repo = e.get("repository")
    name = acr_name(str(host))
    # the short ACR name goes through -n (a bare word is a Docker Hub image), only without a repository
    short = name if name and str(host).endswith(".azurecr.io") and not repo and layer not in ("data", "registry") \
        else None
    target = f"-n {short}" if short else str(host)  # az's convention: a bare word is a Docker Hub image
    port = _confirm_port(host, e)
    if isinstance(port, int) and port != (80 if scheme_http else 443):
        target = f"{host}:{port}"
    if repo:
        ref = str(e.get("reference") or "latest")
        target += f"/{repo}{'@' if ref.startswith('sha256:') else ':'}{ref}"
    elif layer in ("data", "registry"):
        # blob redirects and manifests are only probed for an image
        target += "/<repository>:<tag>"
    return target


def _confirm_options(layer: str, e: Mapping[str, Any], scheme_http: bool) -> list[str]:
    """``--region`` for a data host, ``--proxy`` for a proxy hop, ``--plain-http`` for an http:// registry."""
    parts: list[str] = []
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
    return parts


def _confirm(code: Code, e: Mapping[str, Any]) -> str | None:
    """The ``regdoctor check`` command that would show this finding live (None: no host is known).

    Without a host the command would check whatever the Docker config names, which is not
    necessarily the registry of the text: no command is better than a misleading one.
    """
    layer = kb.code(code).layer
    host = _confirm_host(layer, e)
    if not host:
        return None
    scheme_http = str(e.get("url", "")).startswith("http://")
    target = _confirm_target(host, layer, e, scheme_http)
    return " ".join(["regdoctor", "check", target, *_confirm_options(layer, e, scheme_http)])


def _advice(code: Code, line: str, prev: str, bk: SymptomBook) -> list[str]:
    layer = kb.code(code).layer
    return [a.text for a in bk.advice
            if layer in a.layers and any(w in line or w in prev for w in a.when)]


def build_finding(code: Code, conf: float, acc: Acc, *, alternative: bool, multi: bool, bk: SymptomBook,
                  alternative_of: str | None = None) -> Finding:
    """The finding for one code of a group; an alternative names the group's root cause it stands beside."""
    lm = acc.first
    e = dict(lm.entities)
    host = finding_host(code, e)
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
    return dataclasses.replace(f, fix=fix, confidence=conf, matched=lm.matched, confirm=_confirm(code, e),
                               root_cause=not alternative, alternative_of=alternative_of if alternative else None)


