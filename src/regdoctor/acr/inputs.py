"""Assembling one ``RegistryConfig`` from the documents the user gave (already decoded JSON, no I/O).

Strategy
--------
The CLI reads files and stdin (or runs ``az``) and hands over ``Document``s: a decoded JSON value
and the name of where it came from, so every error names the file. ``split_combined`` takes a
combined file apart (``{"registry": …, "replications": …, "privateEndpointConnections": …,
"privateDnsRecordSets": …, "privateEndpoints": …}``); ``build`` parses the registry, then lays
replications, connections and DNS data over it. Inputs that contradict the registry — a private
endpoint or DNS records for another registry — are refused, not silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from regdoctor.acr import fields as f
from regdoctor.acr.fields import At
from regdoctor.acr.lists import parse_connections, parse_private_endpoints, parse_replications, parse_zone_records
from regdoctor.acr.model import DnsRecord, PrivateEndpointConnection, RegistryConfig, Replica
from regdoctor.acr.parse import parse_registry
from regdoctor.errors import BadInput


@dataclass(frozen=True)
class Document:
    """One decoded JSON input and where it came from (a path, ``stdin``, an ``az`` command)."""

    value: Any
    at: At


@dataclass(frozen=True)
class Inputs:
    """The documents of one source (a file, a combined file, an ``az`` fetch); any may be absent."""

    registry: Document | None = None
    replications: tuple[Document, ...] = ()
    connections: tuple[Document, ...] = ()
    zone_records: tuple[Document, ...] = ()
    private_endpoints: tuple[Document, ...] = ()


_COMBINED_KEYS = {
    "replications": "replications",
    "privateendpointconnections": "connections",
    "privatednsrecordsets": "zone_records",
    "dnsrecords": "zone_records",
    "recordsets": "zone_records",
    "privateendpoints": "private_endpoints",
}


def split_combined(doc: Any, source: str) -> Inputs:
    """A combined file ``{"registry": …, "replications": …, …}``, or a plain registry object.

    >>> parts = split_combined({"registry": {"name": "r1234"}, "replications": []}, "all.json")
    >>> parts.registry.at.where, parts.replications[0].at.where
    ('all.json: registry', 'all.json: replications')
    """
    if isinstance(doc, dict) and isinstance(f.get(doc, "registry"), dict):
        parts: dict[str, tuple[Document, ...]] = {}
        for k, v in doc.items():
            target = _COMBINED_KEYS.get(k.lower()) if isinstance(k, str) else None
            if target and v is not None:
                parts[target] = (Document(v, At(source, k)),)
        return Inputs(registry=Document(f.get(doc, "registry"), At(source, "registry")), **parts)
    return Inputs(registry=Document(doc, At(source)))


def build(inputs: Inputs | Sequence[Inputs]) -> RegistryConfig:
    """Parse and merge: the registry, then replications, connections and DNS data on top.

    Later inputs extend earlier ones; a connection listed twice (in the registry JSON and in a
    separate list) is kept once, the separate list winning.

    >>> cfg = build(Inputs(registry=Document({"loginServer": "r1234.azurecr.io", "location": "westeurope"},
    ...                                      At("show.json")),
    ...                    replications=(Document([{"location": "eastus"}], At("repl.json")),)))
    >>> cfg.regions
    ('westeurope', 'eastus')
    """
    parts = [inputs] if isinstance(inputs, Inputs) else list(inputs)
    first = next((p.registry for p in parts if p.registry is not None), None)
    if first is None:
        raise BadInput("no registry configuration given")
    cfg = _registry(first)
    replicas: list[Replica] = list(cfg.replicas)
    conns: dict[str, PrivateEndpointConnection] = {c.name: c for c in cfg.connections}
    zone: list[DnsRecord] | None = None
    endpoint: list[DnsRecord] = []
    subnets: list[str] = []
    for p in parts:
        for d in p.replications:
            replicas = _merge_replicas(replicas, parse_replications(d.value, d.at))
        for d in p.connections:
            for c in parse_connections(d.value, d.at):
                conns[c.name] = c
        for d in p.zone_records:
            zone = (zone or []) + _own(cfg, parse_zone_records(d.value, cfg.suffix, d.at), d.at)
        for d in p.private_endpoints:
            records, pe_subnets = parse_private_endpoints(d.value, cfg.suffix, d.at)
            endpoint += _own(cfg, records, d.at)
            subnets += pe_subnets
    cfg = replace(cfg, replicas=tuple(replicas), connections=tuple(conns.values()),
                  zone_records=None if zone is None else tuple(zone), endpoint_records=tuple(endpoint),
                  endpoint_subnets=tuple(subnets))
    return replace(cfg, notes=tuple(_notes(cfg)))


def _registry(doc: Document) -> RegistryConfig:
    return parse_registry(doc.value, at=doc.at)


def _own(cfg: RegistryConfig, records: Sequence[DnsRecord], at: At) -> list[DnsRecord]:
    """The records for this registry's names; ``BadInput`` when there are records, none of them ours."""
    mine = [r for r in records if cfg.role_of(r.host) is not None]
    if records and not mine:
        at.fail(f"these records are for {f.echo(records[0].host)}, not for {cfg.login_server} or its data and "
                "regional endpoints")
    return mine


def _notes(cfg: RegistryConfig) -> list[str]:
    notes = list(cfg.notes)
    if cfg.data_endpoints_on and not cfg.regions:
        notes.append("dedicated data endpoints are on but the input names no region (no location, replications, "
                     "data endpoint host names or private DNS data): data endpoint hosts are unknown")
    if cfg.vnet_rules is None and cfg.deny_by_default and not cfg.blocks_public:
        notes.append("virtualNetworkRules is absent from this JSON (API 2023-07-01 omits it): service endpoint "
                     "rules cannot be judged; `az acr network-rule list` shows them")
    if not cfg.premium_features and (cfg.default_deny or not cfg.public_enabled or cfg.connections
                                     or cfg.data_endpoint_enabled or cfg.dual_stack_configured
                                     or (cfg.regional_endpoints or "").lower() == "enabled"):
        notes.append(f"the SKU is {cfg.sku}: network rules, private endpoints and dedicated data endpoints are "
                     "Premium features, disabled below Premium, so the settings this JSON shows are not in force")
    return notes


def _merge_replicas(old: Iterable[Replica], new: Iterable[Replica]) -> list[Replica]:
    by_region = {r.region: r for r in old}
    for r in new:
        by_region[r.region] = r
    return list(by_region.values())


__all__ = ["Document", "Inputs", "build", "split_combined"]
