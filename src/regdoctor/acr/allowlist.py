"""``acr allowlist``: the FQDNs and ports a client firewall must allow for one registry.

Strategy
--------
Reference §1 says what a client allow list must contain: the login server; ``azurecr.io``
(certificate download); for every replica region its dedicated data endpoint, or storage
(``*.blob.core.windows.net``, service tag ``Storage.<Region>``) when data endpoints are off;
each regional endpoint when those are on; all HTTPS on 443. That the list is complete is
inferred from those rows, and each rule says so in ``basis``. Service tags are documented for
the REST endpoint (``AzureContainerRegistry[.<Region>]``) and for storage; which tag covers a
dedicated data endpoint or a regional endpoint is not stated, so those tags are marked inferred.

Everything here is pure: ``rules_for`` builds the list, the ``render_*`` functions print it as
text, a JSON-ready list, a Squid ACL, or Azure Firewall application-rule ``az`` commands.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from regdoctor.acr.config import RegistryConfig, normalise_region, storage_wildcard

Basis = Literal["documented", "inferred"]

# Tokens of ARM region names, longest first, for the CamelCase of service tags
# (westeurope -> WestEurope, eastus2 -> EastUS2). Upper-case abbreviations are listed as such.
_REGION_TOKENS = sorted((
    "southeast", "northeast", "southwest", "northwest", "north", "south", "east", "west", "central",
    "us", "uk", "uae", "eu", "europe", "asia", "pacific", "japan", "australia", "brazil", "canada", "france",
    "germany", "india", "korea", "norway", "switzerland", "sweden", "qatar", "israel", "italy", "poland",
    "mexico", "spain", "africa", "newzealand", "taiwan", "indonesia", "malaysia", "chile", "austria",
    "belgium", "denmark", "finland", "greece", "saudiarabia", "jio", "gov", "dod", "virginia", "texas",
    "arizona", "iowa", "china", "ireland", "netherlands",
), key=len, reverse=True)
_UPPER = {"us": "US", "uk": "UK", "uae": "UAE", "eu": "EU", "dod": "DoD"}
_SPECIAL = {"newzealand": "NewZealand", "saudiarabia": "SaudiArabia"}


def tag_region(region: str) -> str:
    """The region as written in service tag names (best effort for unknown names).

    >>> tag_region("westeurope"), tag_region("eastus2"), tag_region("uksouth"), tag_region("usgovvirginia")
    ('WestEurope', 'EastUS2', 'UKSouth', 'USGovVirginia')
    """
    s = normalise_region(region)
    out: list[str] = []
    while s:
        digits = re.match(r"\d+", s)
        if digits:
            out.append(digits.group())
            s = s[digits.end():]
            continue
        tok = next((t for t in _REGION_TOKENS if s.startswith(t)), None)
        if tok is None:  # an unknown word: keep the rest, capitalised
            out.append(s[:1].upper() + s[1:])
            break
        out.append(_UPPER.get(tok) or _SPECIAL.get(tok) or tok.capitalize())
        s = s[len(tok):]
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One allow-list entry: HTTPS to ``fqdn`` on ``port``."""

    fqdn: str
    role: str
    purpose: str
    service_tag: str | None
    basis: Basis
    tag_basis: Basis | None = None
    region: str | None = None
    port: int = 443
    protocol: str = "https"
    #: A condition under which the rule applies (``allowlist NAME`` without a config).
    condition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"fqdn": self.fqdn, "port": self.port, "protocol": self.protocol, "role": self.role,
                "region": self.region, "purpose": self.purpose, "service_tag": self.service_tag,
                "service_tag_basis": self.tag_basis, "basis": self.basis, "condition": self.condition}


def rules_for(*, name: str, login_server: str, suffix: str, regions: Sequence[str],
              data_endpoints: bool | None, regional_endpoints: bool,
              data_hosts: dict[str, str] | None = None, regional_hosts: dict[str, str] | None = None) -> list[Rule]:
    """The allow list for a registry described by its parts.

    ``data_endpoints=None`` means unknown: both the data endpoint and the storage rule are
    listed, each with its condition. The storage wildcard is listed once per region because
    each region has its own ``Storage.<Region>`` tag.

    >>> [r.fqdn for r in rules_for(name="myreg", login_server="myreg.azurecr.io", suffix="azurecr.io",
    ...                             regions=["westeurope"], data_endpoints=True, regional_endpoints=False)]
    ['myreg.azurecr.io', 'azurecr.io', 'myreg.westeurope.data.azurecr.io']
    """
    rules = [
        Rule(login_server, "login", "login server: authentication, manifests, blob uploads (push)",
             "AzureContainerRegistry", "documented", "documented"),
        Rule(suffix, "certificate", "certificate download during the TLS handshake", None, "documented"),
    ]
    for region in regions:
        tag = tag_region(region)
        if data_endpoints is not False:
            host = (data_hosts or {}).get(region) or f"{name}.{region}.data.{suffix}"
            rules.append(Rule(host, "data", f"dedicated data endpoint of the {region} replica: layer downloads",
                              f"AzureContainerRegistry.{tag}", "documented", "inferred", region,
                              condition="if dedicated data endpoints are enabled" if data_endpoints is None
                              else None))
        if data_endpoints is not True:
            rules.append(Rule(storage_wildcard(suffix), "storage",
                              f"registry storage of the {region} replica: layer downloads", f"Storage.{tag}",
                              "documented", "documented", region,
                              condition="if dedicated data endpoints are disabled" if data_endpoints is None
                              else None))
    if regional_endpoints:
        for region in regions:
            host = (regional_hosts or {}).get(region) or f"{name}.{region}.geo.{suffix}"
            rules.append(Rule(host, "regional", f"regional endpoint of the {region} replica",
                              f"AzureContainerRegistry.{tag_region(region)}", "documented", "inferred", region))
    return rules


def from_config(cfg: RegistryConfig, extra_regions: Sequence[str] = ()) -> list[Rule]:
    """The allow list of a registry read from JSON, plus any ``--region`` (e.g. a planned replica)."""
    regions = list(cfg.regions)
    for r in extra_regions:
        if normalise_region(r) not in regions:
            regions.append(normalise_region(r))
    return rules_for(
        name=cfg.name, login_server=cfg.login_server, suffix=cfg.suffix, regions=regions,
        data_endpoints=cfg.data_endpoints_on, regional_endpoints=cfg.regional_endpoints_enabled,
        data_hosts={r: cfg.data_endpoint(r) for r in cfg.regions},
        regional_hosts={r: cfg.regional_endpoint(r) for r in cfg.regions},
    )


# --------------------------------------------------------------------------- renderers

def render_text(rules: Sequence[Rule], *, registry: str) -> str:
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
    return "\n".join(lines) + "\n"


def render_squid(rules: Sequence[Rule], *, registry: str) -> str:
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


def render_az_firewall(rules: Sequence[Rule], *, registry: str) -> str:
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


__all__ = ["Rule", "from_config", "render_az_firewall", "render_squid", "render_text", "rules_for", "tag_region"]
