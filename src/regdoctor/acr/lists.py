"""The optional list inputs: replications, private endpoint connections, private DNS records, private endpoints.

Strategy
--------
Each is a list answer of ``az`` (a bare array) or of ARM (``{"value": [...]}``); one object is
accepted where it is clearly one item of that list (``az network private-endpoint show``).
Each has its own schema, and an input of the wrong kind is refused instead of being read as an
empty list — ``{"foo": 1}`` given as DNS records is "not a list of record sets", never "three
records are missing". Within a valid list, items of other kinds that such a list really holds
are skipped (the SOA record set of a zone, a DNS config of another service).

Addresses are checked as addresses, regions as region names, host names as host names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from regdoctor.acr import fields as f
from regdoctor.acr.fields import At, Obj
from regdoctor.acr.model import DnsRecord, PrivateEndpointConnection, Replica
from regdoctor.acr.parse import host_name, is_connection, parse_connection, region_of

_RECORD_KEYS = ("aRecords", "aaaaRecords", "cnameRecord", "soaRecord", "mxRecords", "ptrRecords", "srvRecords",
                "txtRecords")


def items(doc: Any, at: At, what: str, looks_like: Callable[[Obj], bool]) -> list[tuple[Obj, At]]:
    """The items of a list answer, each with its position; ``BadInput`` when ``doc`` is no such list.

    >>> items({"foo": 1}, At("records.json"), "private DNS record sets", lambda o: "aRecords" in o)
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: records.json: expected a JSON array of private DNS record sets or {"value": [...]}, \
got an object with keys 'foo'
    """
    if isinstance(doc, dict):
        inner = f.get(doc, "value")
        if isinstance(inner, list):
            doc, at = inner, at.key("value")
        elif looks_like(doc):
            return [(doc, at)]
        else:
            keys = ", ".join(f.echo(k)[:40] for k in list(doc)[:8]) or "none"
            at.fail(f'expected a JSON array of {what} or {{"value": [...]}}, got an object with keys {keys}')
    if not isinstance(doc, list):
        at.fail(f'expected a JSON array of {what} or {{"value": [...]}}, got {f.kind(doc)}')
    out: list[tuple[Obj, At]] = []
    for i, v in enumerate(doc):
        where = at.index(i)
        item = f.obj(v, where)
        if not looks_like(item):
            where.fail(f"not one of the {what} (expected the output of the az command that lists them)")
        out.append((item, where))
    return out


# --------------------------------------------------------------------------- replications

def _is_replication(o: Obj) -> bool:
    kind = f.get(o, "type")
    if isinstance(kind, str):
        return kind.lower().endswith("/replications")
    return f.has(o, "location")


def parse_replications(doc: Any, at: At) -> tuple[Replica, ...]:
    """``az acr replication list`` (array) or the REST list (``{"value": [...]}``).

    >>> parse_replications([{"location": "East US", "regionEndpointEnabled": False}], At("r.json"))
    (Replica(region='eastus', region_endpoint_enabled=False, status=None),)
    """
    out: list[Replica] = []
    for item, where in items(doc, at, "replications (az acr replication list)", _is_replication):
        p = f.props(item)
        pat = where.key("properties") if isinstance(f.get(item, "properties"), dict) else where
        region = region_of(item, "location", where)
        if region is None:
            where.fail("a replication without location")
        status = f.sub(p, "status", pat)
        out.append(Replica(region=region, region_endpoint_enabled=f.flag(p, "regionEndpointEnabled", pat),
                           status=f.text(status, "displayStatus", pat.key("status")) if status else None))
    return tuple(out)


# --------------------------------------------------------------------------- connections

def parse_connections(doc: Any, at: At) -> tuple[PrivateEndpointConnection, ...]:
    """``az acr private-endpoint-connection list`` or its REST list."""
    return tuple(parse_connection(o, w) for o, w in
                 items(doc, at, "private endpoint connections (az acr private-endpoint-connection list)",
                       is_connection))


# --------------------------------------------------------------------------- private DNS zone

def _is_record_set(o: Obj) -> bool:
    kind = f.get(o, "type")
    if isinstance(kind, str) and "privatednszones/" in kind.lower():
        return True
    return any(f.has(f.props(o), k) for k in _RECORD_KEYS)


def _ipv4(value: Any, at: At) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip() if isinstance(value, str) else value))
    except (ipaddress.AddressValueError, ValueError, TypeError):
        at.fail(f"expected an IPv4 address, got {f.echo(value)}")


def _ip(value: Any, at: At) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            pass
    at.fail(f"expected an IP address, got {f.echo(value)}")


def parse_zone_records(doc: Any, suffix: str, at: At) -> tuple[DnsRecord, ...]:
    """A records of the ``privatelink.<suffix>`` zone (``az network private-dns record-set a list``).

    Record sets of other types (SOA, CNAME…) are skipped, so a full ``record-set list`` of the
    zone is accepted as it is; A records of another zone only are refused (wrong zone exported).

    >>> parse_zone_records([{"name": "myreg", "aRecords": [{"ipv4Address": "10.0.0.5"}],
    ...     "fqdn": "myreg.privatelink.azurecr.io."}], "azurecr.io", At("z.json"))[0].host
    'myreg.azurecr.io'
    """
    zone = f"privatelink.{suffix}"
    out: list[DnsRecord] = []
    other_zones: list[str] = []
    for item, where in items(doc, at, "private DNS record sets (az network private-dns record-set list)",
                             _is_record_set):
        p = f.props(item)
        pat = where.key("properties") if isinstance(f.get(item, "properties"), dict) else where
        a = f.objects(p, "aRecords", pat)
        if f.get(p, "aRecords") is None:
            continue
        addrs = tuple(_ipv4(f.get(r, "ipv4Address"), w.key("ipv4Address")) for r, w in a)
        fqdn_text = f.text(item, "fqdn", where) or f.text(p, "fqdn", pat)
        if fqdn_text:
            fqdn = host_name(fqdn_text, where.key("fqdn"))
        else:
            rel = (f.text(item, "name", where) or "").strip().lower()
            if not rel:
                where.fail("an A record set without name or fqdn")
            if rel == "@":  # the zone apex is no registry name
                continue
            fqdn = host_name(f"{rel}.{zone}", where.key("name"))
        if not fqdn.endswith("." + zone):
            other_zones.append(fqdn)
            continue
        host = fqdn[: -len(zone) - 1] + "." + suffix
        out.append(DnsRecord(host=host, zone_name=fqdn, addresses=addrs, source="zone"))
    if other_zones and not out:
        at.fail(f"no A record of the {zone} zone (found {f.echo(other_zones[0])}): export the records of {zone}")
    return tuple(out)


# --------------------------------------------------------------------------- private endpoints, NICs

def _is_endpoint_or_nic(o: Obj) -> bool:
    kind = f.get(o, "type")
    if isinstance(kind, str) and kind.lower() in ("microsoft.network/privateendpoints",
                                                  "microsoft.network/networkinterfaces"):
        return True
    p = f.props(o)
    return f.has(p, "customDnsConfigs") or f.has(p, "ipConfigurations")


def parse_private_endpoints(doc: Any, suffix: str, at: At) -> tuple[tuple[DnsRecord, ...], tuple[str, ...]]:
    """Addresses each name must resolve to, from ``az network private-endpoint show`` (its
    ``customDnsConfigs``) or ``az network nic show`` of its NIC (``ipConfigurations[].
    privateLinkConnectionProperties.fqdns``), plus the endpoints' subnet IDs.

    These are the addresses on the private endpoint's network interface: what each name must
    resolve to ([private-endpoints]). Names of other services are skipped.
    """
    zone = f"privatelink.{suffix}"
    records: list[DnsRecord] = []
    subnets: list[str] = []

    def add(fqdn: str, addrs: tuple[str, ...]) -> None:
        if fqdn.endswith("." + suffix) and not fqdn.endswith("." + zone):
            records.append(DnsRecord(host=fqdn, zone_name=fqdn[: -len(suffix) - 1] + "." + zone,
                                     addresses=addrs, source="endpoint"))

    for item, where in items(doc, at, "private endpoints (az network private-endpoint show) or their NICs "
                             "(az network nic show)", _is_endpoint_or_nic):
        p = f.props(item)
        pat = where.key("properties") if isinstance(f.get(item, "properties"), dict) else where
        subnet = f.sub(p, "subnet", pat)
        sid = f.text(subnet, "id", pat.key("subnet")) if subnet is not None else None
        if sid:
            subnets.append(sid.strip())
        for c, w in f.objects(p, "customDnsConfigs", pat):
            fqdn = host_name(f.get(c, "fqdn"), w.key("fqdn"))
            ips = tuple(_ip(x, w.key("ipAddresses").index(i)) for i, x in enumerate(f.array(c, "ipAddresses", w) or []))
            add(fqdn, ips)
        for c, w in f.objects(p, "ipConfigurations", pat):
            cp = f.props(c)
            cat = w.key("properties") if isinstance(f.get(c, "properties"), dict) else w
            link = f.sub(cp, "privateLinkConnectionProperties", cat)
            if link is None:
                continue
            lat = cat.key("privateLinkConnectionProperties")
            ip_text = f.get(cp, "privateIPAddress")
            ips = (_ip(ip_text, cat.key("privateIPAddress")),) if ip_text is not None else ()
            for i, fq in enumerate(f.array(link, "fqdns", lat) or []):
                add(host_name(fq, lat.key("fqdns").index(i)), ips)
    return tuple(records), tuple(subnets)


__all__ = ["items", "parse_connections", "parse_private_endpoints", "parse_replications", "parse_zone_records"]
