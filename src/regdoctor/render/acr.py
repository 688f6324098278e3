"""Formats of ``regdoctor acr``: access decisions, DNS checks, lint findings, allow lists.

Every function returns a string; ``cli/acr.py`` prints it. The commands that report findings
(``lint``, ``dns``) and decisions (``access``) all have text, json, markdown and junit; in JUnit
the failures are exactly what sets exit 1 — a DENY for ``access``, an error or warning finding
for ``lint`` and ``dns``. ``allowlist`` has text, json, a Squid ACL and Azure Firewall commands.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from regdoctor.model import Finding

if TYPE_CHECKING:
    from regdoctor.acr.access import Decision, Verdict
    from regdoctor.acr.allowlist import Rule
    from regdoctor.acr.dns import DnsCheck
    from regdoctor.render.lines import Terminal

#: Severities that set exit 1 for ``acr lint`` and ``acr dns``.
FAILING = ("error", "warning")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- access

def access(fmt: str, *, registry: str, who: str, client: Mapping[str, Any], decisions: Sequence[Decision],
           credentials: Verdict, notes: Sequence[str]) -> str:
    """``acr access`` in ``fmt`` (text, json, markdown, junit)."""
    if fmt == "json":
        from regdoctor.render import document

        return document(registry=registry, client=dict(client),
                        status="ok" if all(d.allowed for d in decisions) else "problems",
                        decisions=[d.to_dict() for d in decisions],
                        credentials={"anonymous_pull": credentials.allowed, "rule": credentials.rule,
                                     "reason": credentials.reason, "basis": credentials.basis},
                        notes=list(notes))
    if fmt == "markdown":
        return _access_markdown(registry, who, decisions, credentials, notes)
    if fmt == "junit":
        return _access_junit(registry, who, decisions)
    return _access_text(registry, who, decisions, credentials, notes)


def _access_text(registry: str, who: str, decisions: Sequence[Decision], credentials: Verdict,
                 notes: Sequence[str]) -> str:
    lines = [f"regdoctor acr access: {registry}, {who}", ""]
    width = max(len(d.host) for d in decisions)
    for d in decisions:
        verdict = "ALLOW" if d.allowed else "DENY "
        lines.append(f"  {verdict}  {d.endpoint:<8} {d.host:<{width}}  rule: {d.rule} ({d.basis})")
        lines.append(f"  {'':5}  {'':8} {d.reason}")
    lines += ["", f"credentials: {credentials.reason} ({credentials.basis})"]
    lines += [f"note: {n}" for n in notes]
    denied = sum(not d.allowed for d in decisions)
    lines.append(f"{denied} of {len(decisions)} endpoint(s) deny this client." if denied
                 else "Every endpoint admits this client.")
    return "\n".join(lines) + "\n"


def _access_markdown(registry: str, who: str, decisions: Sequence[Decision], credentials: Verdict,
                     notes: Sequence[str]) -> str:
    lines = [f"### regdoctor acr access: `{registry}`, {who}", "",
             "| Verdict | Endpoint | Host | Rule | Basis | Reason |", "|---|---|---|---|---|---|"]
    lines += [f"| {'ALLOW' if d.allowed else 'DENY'} | {d.endpoint} | `{d.host}` | `{_cell(d.rule)}` | {d.basis} "
              f"| {_cell(d.reason)} |" for d in decisions]
    lines += ["", f"Credentials: {credentials.reason} ({credentials.basis})", ""]
    lines += [f"> note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _access_junit(registry: str, who: str, decisions: Sequence[Decision]) -> str:
    suites = ET.Element("testsuites", name=f"regdoctor acr access {registry}")
    suite = ET.SubElement(suites, "testsuite", name=f"regdoctor acr access {registry} ({who})",
                          tests=str(len(decisions)), failures=str(sum(not d.allowed for d in decisions)))
    for d in decisions:
        case = ET.SubElement(suite, "testcase", classname=f"{registry}.{d.endpoint}", name=d.host)
        if not d.allowed:
            ET.SubElement(case, "failure", message=f"DENY by {d.rule}", type=d.rule).text = \
                f"{d.reason} ({d.basis})"
        else:
            ET.SubElement(case, "system-out").text = f"ALLOW by {d.rule}: {d.reason} ({d.basis})"
    return ET.tostring(suites, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- lint, dns

def findings(fmt: str, found: Sequence[Finding], *, header: str, extra: Mapping[str, Any],
             text_prefix: str = "", suite: str | None = None, term: Terminal | None = None) -> str:
    """Findings of ``acr lint`` / ``acr dns``: JUnit failures are the error and warning findings;
    ``suite`` names the JUnit suite (the command and the registry), ``term`` where text goes."""
    from regdoctor.render import render_findings
    from regdoctor.render.junit import render_findings as junit

    if fmt == "junit":
        return junit(found, suite=suite or header, failing=FAILING)
    out = render_findings(fmt, found, header=header, extra=extra, term=term)
    return text_prefix + out if fmt == "text" else out


def dns_checks(checks: Sequence[DnsCheck], *, registry: str, zone: str, notes: Sequence[str]) -> str:
    """The per-name table that precedes ``acr dns``'s findings in text."""
    lines = [f"Private-endpoint DNS for {registry} (zone {zone}):", ""]
    for c in checks:
        e, r = c.expectation, c.resolution
        mark = {"ok": "OK  ", "problem": "FAIL", "unresolved": "FAIL"}[c.status]
        lines.append(f"  {mark} {e.host}  ({e.role}{', ' + e.region if e.region else ''})")
        lines.append(f"       expected: {e.describe()}")
        if r.error:
            lines.append(f"       resolved: nothing via {r.resolver}: {r.error}")
        else:
            lines.append(f"       resolved: {', '.join(r.addresses)} via {r.resolver}")
        if r.chain:
            hops = [r.chain[0][0]] + [t for _, t in r.chain]
            end = f" -> {', '.join(r.addresses)}" if r.addresses else ""
            lines.append(f"       chain:    {' -> '.join(hops)}{end}")
    lines += [""] + [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- allowlist

def allowlist_text(rules: Sequence[Rule], *, registry: str, notes: Sequence[str] = ()) -> str:
    """One line per rule: ``fqdn:port  tag  purpose [condition]``."""
    width = max((len(r.fqdn) for r in rules), default=0) + 4
    tagw = max((len(r.service_tag or "-") for r in rules), default=0)
    lines = [f"Client firewall allow list for {registry} (HTTPS, TCP 443):", ""]
    for r in rules:
        cond = f"  [{r.condition}]" if r.condition else ""
        tag = (r.service_tag or "-") + ("*" if r.tag_basis == "inferred" else "")
        lines.append(f"  {(r.fqdn + ':' + str(r.port)):<{width}} {tag:<{tagw + 1}}  {r.purpose}{cond}")
    lines += ["", "Service tags cover address ranges that change weekly; prefer FQDN rules where the firewall "
              "supports them."]
    if any(r.tag_basis == "inferred" for r in rules):
        lines.append("* which service tag covers this host is not documented (inferred).")
    lines += ["The list is assembled from the documented endpoints (inferred to be complete). Add data "
              "endpoint rules before enabling dedicated data endpoints, or pulls break."]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def allowlist_squid(rules: Sequence[Rule], *, registry: str) -> str:
    """A Squid ACL admitting CONNECT to every host on port 443."""
    acl = f"acr_{re.sub(r'[^A-Za-z0-9_]', '_', registry)}"
    domains: list[str] = []
    for r in rules:
        # squid writes a wildcard as a leading dot
        d = "." + r.fqdn[2:] if r.fqdn.startswith("*.") else r.fqdn
        if d not in domains:
            domains.append(d)
    return "\n".join([
        f"# regdoctor: client allow list for {registry}",
        f"acl {acl} dstdomain {' '.join(domains)}",
        "acl acr_https port 443",
        f"http_access allow CONNECT {acl} acr_https",
    ]) + "\n"


def allowlist_az_firewall(rules: Sequence[Rule], *, registry: str) -> str:
    """Azure Firewall application rules (``az network firewall application-rule create``)."""
    fqdns: list[str] = []
    for r in rules:
        if r.fqdn not in fqdns:
            fqdns.append(r.fqdn)
    lines = [
        f"# regdoctor: Azure Firewall application rules for {registry} (needs `az extension add -n azure-firewall`)",
        "# Set these first:",
        "FIREWALL=<firewall-name>",
        "RESOURCE_GROUP=<firewall-resource-group>",
        "SOURCE_ADDRESSES=<client-cidr>",
        "",
        "az network firewall application-rule create \\",
        '  --firewall-name "$FIREWALL" --resource-group "$RESOURCE_GROUP" \\',
        f"  --collection-name acr-{registry} --priority 200 --action Allow \\",
        f"  --name acr-{registry}-https --protocols Https=443 \\",
        '  --source-addresses "$SOURCE_ADDRESSES" \\',
        # quoted: `*.blob.core.windows.net` must reach az, not the shell's glob
        f"  --target-fqdns {' '.join(shlex.quote(f) for f in fqdns)}",
    ]
    tags = sorted({r.service_tag for r in rules if r.service_tag})
    if tags:
        lines += ["", "# Without FQDN filtering, a network rule on service tags instead (ranges change weekly):",
                  "# az network firewall network-rule create --firewall-name \"$FIREWALL\" "
                  "--resource-group \"$RESOURCE_GROUP\" \\",
                  f"#   --collection-name acr-{registry}-tags --priority 210 --action Allow "
                  f"--name acr-{registry}-tags \\",
                  "#   --protocols TCP --destination-ports 443 --source-addresses \"$SOURCE_ADDRESSES\" \\",
                  f"#   --destination-addresses {' '.join(tags)}"]
    return "\n".join(lines) + "\n"


__all__ = ["FAILING", "access", "allowlist_az_firewall", "allowlist_squid", "allowlist_text", "dns_checks",
           "findings"]
