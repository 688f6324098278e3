"""``acr allowlist``: the FQDNs and ports a client firewall must allow for one registry (pure).

Strategy
--------
What a client allow list must contain, rule by rule ([firewall], [private-endpoints], [geo]):
the login server, "``azurecr.io`` must also be accessible" (certificate download during the TLS
handshake), for every replica region its dedicated data endpoint — or storage
(``*.blob.core.windows.net``, tag ``Storage.<Region>``) when data endpoints are off — and each
regional endpoint when those are on; "all endpoints are reached over port 443". That the list is
complete is inferred from those rows, and each rule says so in ``basis``. Service tags are
documented for the REST endpoint (``AzureContainerRegistry[.<Region>]``) and for storage; which
tag covers a dedicated data endpoint or a regional endpoint is not stated (inferred).

The regions are the registry's one list (``RegistryConfig.regions``) plus any ``--region``
(a planned replica). A replica excluded from global endpoint routing keeps its rules: it is
still reached through its regional endpoint, and routing can be switched back on at any time.
The renderers (text, Squid ACL, Azure Firewall commands) live in ``regdoctor.render.acr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from regdoctor.acr import docs
from regdoctor.acr.model import RegistryConfig, storage_wildcard
from regdoctor.acr.regions import parse_region, tag_region

Basis = Literal["documented", "inferred"]


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
    source: str = "firewall"

    def to_dict(self) -> dict[str, Any]:
        return {"fqdn": self.fqdn, "port": self.port, "protocol": self.protocol, "role": self.role,
                "region": self.region, "purpose": self.purpose, "service_tag": self.service_tag,
                "service_tag_basis": self.tag_basis, "basis": self.basis, "condition": self.condition,
                "source": docs.url(self.source)}


def rules_for(*, name: str, login_server: str, suffix: str, regions: Sequence[str],
              data_endpoints: bool | None, regional_endpoints: bool,
              data_hosts: dict[str, str] | None = None, regional_hosts: dict[str, str] | None = None,
              unrouted: Sequence[str] = ()) -> list[Rule]:
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
        note = " (excluded from global endpoint routing: reached through its regional endpoint)" \
            if region in unrouted else ""
        if data_endpoints is not False:
            host = (data_hosts or {}).get(region) or f"{name}.{region}.data.{suffix}"
            rules.append(Rule(host, "data", f"dedicated data endpoint of the {region} replica: layer downloads{note}",
                              f"AzureContainerRegistry.{tag}", "documented", "inferred", region,
                              condition="if dedicated data endpoints are enabled" if data_endpoints is None
                              else None, source="data-endpoints"))
        if data_endpoints is not True:
            rules.append(Rule(storage_wildcard(suffix), "storage",
                              f"registry storage of the {region} replica: layer downloads{note}", f"Storage.{tag}",
                              "documented", "documented", region,
                              condition="if dedicated data endpoints are disabled" if data_endpoints is None
                              else None))
    if regional_endpoints:
        for region in regions:
            host = (regional_hosts or {}).get(region) or f"{name}.{region}.geo.{suffix}"
            rules.append(Rule(host, "regional", f"regional endpoint of the {region} replica",
                              f"AzureContainerRegistry.{tag_region(region)}", "documented", "inferred", region,
                              source="geo"))
    return rules


def from_config(cfg: RegistryConfig, extra_regions: Sequence[str] = ()) -> list[Rule]:
    """The allow list of a registry read from JSON, plus any ``--region``; ``ValueError`` for a non-region."""
    regions = list(cfg.regions)
    regions += [r for r in dict.fromkeys(parse_region(x) for x in extra_regions) if r not in regions]
    return rules_for(
        name=cfg.name, login_server=cfg.login_server, suffix=cfg.suffix, regions=regions,
        data_endpoints=cfg.data_endpoints_on, regional_endpoints=cfg.regional_endpoints_enabled,
        data_hosts={r: cfg.data_endpoint(r) for r in regions},
        regional_hosts={r: cfg.regional_endpoint(r) for r in regions},
        unrouted=[r.region for r in cfg.replicas if not r.globally_routed],
    )


__all__ = ["Rule", "from_config", "rules_for"]
