"""Registry JSON → one normalised, frozen ``RegistryConfig``.

Strategy
--------
The same registry reaches us in several shapes (reference §7), and every network field is
optional because which ones exist depends on the API version:

* ``az acr show -o json`` (CLI shape): settings at the top level, IP rules keyed
  ``ipAddressOrRange``, private endpoint connections flattened;
* the ARM REST response (REST shape): settings under ``properties``, IP rules keyed ``value``,
  connection fields under ``properties``; a REST spec example (``responses.200.body``) too;
* list answers as a bare array (CLI) or ``{"value": [...]}`` (REST): replications, private
  endpoint connections, private DNS record sets;
* one combined file ``{"registry": …, "replications": …, "privateEndpointConnections": …,
  "privateDnsRecordSets": …, "privateEndpoints": …}``.

Everything is parsed into frozen dataclasses here, once, so ``access``, ``lint``, ``allowlist``
and ``dns`` never look at raw JSON. Absence is kept distinct from emptiness where the model
needs it: ``virtualNetworkRules`` missing (API 2023-07-01 omits it) is ``None``, not ``()``,
because "no rules" and "cannot tell" lead to different verdicts.

Input is hostile until parsed: files are read with a size cap (``MAX_BYTES``, 20 MB), must be
UTF-8 JSON, and every failure is a ``BadInput`` (exit 2) naming the file and the reason, never a
traceback. Key lookup is case-insensitive (exports from other tools vary the casing); values
of known fields are type-checked and a wrong type names the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from regdoctor.errors import BadInput

_T = TypeVar("_T")

#: Largest input we read. A registry's JSON is a few KB; anything near this is not one.
MAX_BYTES = 20 * 1024 * 1024
#: Registry names the service accepts (5-50 letters and digits), case-insensitive.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HOST_CHARS = _NAME_CHARS | frozenset(".-")
_REGISTRY_TYPE = "microsoft.containerregistry/registries"
#: Keys that only a registry resource carries; one of them (or the type) identifies one.
_REGISTRY_KEYS = ("loginServer", "networkRuleSet", "publicNetworkAccess", "dataEndpointEnabled",
                  "networkRuleBypassOptions", "dataEndpointHostNames", "adminUserEnabled",
                  "privateEndpointConnections", "networkRuleBypassAllowedForTasks")


# --------------------------------------------------------------------------- the normalised model

@dataclass(frozen=True)
class IpRule:
    """One ``networkRuleSet.ipRules`` entry (REST ``value`` or CLI ``ipAddressOrRange``)."""

    value: str
    action: str = "Allow"


@dataclass(frozen=True)
class VnetRule:
    """One ``networkRuleSet.virtualNetworkRules`` entry: a subnet with a service endpoint."""

    subnet_id: str
    action: str = "Allow"


@dataclass(frozen=True)
class Replica:
    """One geo-replica (``az acr replication list``); ``region`` is lower case, no spaces."""

    region: str
    #: ``regionEndpointEnabled``: whether the replica takes part in global routing (None: absent).
    region_endpoint_enabled: bool | None = None
    status: str | None = None


@dataclass(frozen=True)
class PrivateEndpointConnection:
    """A private endpoint connection; ``status`` is Approved|Pending|Rejected|Disconnected."""

    name: str
    private_endpoint_id: str | None = None
    status: str | None = None
    description: str | None = None

    @property
    def approved(self) -> bool:
        return (self.status or "").lower() == "approved"


@dataclass(frozen=True)
class DnsRecord:
    """An address a client-visible name should resolve to through a private endpoint.

    ``host`` is the name clients look up (``myreg.westeurope.data.azurecr.io``); ``zone_name`` is
    the record in the private zone (``myreg.westeurope.data.privatelink.azurecr.io``).
    ``source`` says where the address came from: ``zone`` (an A record set of the private DNS
    zone) or ``endpoint`` (the private endpoint's own ``customDnsConfigs``, i.e. its NIC).
    """

    host: str
    zone_name: str
    addresses: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RegistryConfig:
    """Everything regdoctor knows about one registry's network settings.

    ``None`` means the field was absent from the input; the ``*_effective`` properties apply
    the service defaults (documented in reference §7) so callers do not repeat them.
    """

    name: str
    login_server: str
    #: The DNS suffix after the registry label: ``azurecr.io`` (or a sovereign cloud's).
    suffix: str
    shape: str
    sku: str | None = None
    location: str | None = None
    public_network_access: str | None = None
    default_action: str | None = None
    ip_rules: tuple[IpRule, ...] = ()
    #: ``None`` when the input does not carry ``virtualNetworkRules`` at all.
    vnet_rules: tuple[VnetRule, ...] | None = None
    bypass_options: str | None = None
    tasks_bypass: bool | None = None
    data_endpoint_enabled: bool | None = None
    data_endpoint_hosts: tuple[str, ...] = ()
    regional_endpoints: str | None = None
    regional_endpoint_hosts: tuple[str, ...] = ()
    endpoint_protocol: str | None = None
    replicas: tuple[Replica, ...] = ()
    connections: tuple[PrivateEndpointConnection, ...] = ()
    #: A records of the private DNS zone, when given (``None``: not given, cannot check).
    zone_records: tuple[DnsRecord, ...] | None = None
    #: Addresses from the private endpoints' ``customDnsConfigs``, when given.
    endpoint_records: tuple[DnsRecord, ...] = ()
    notes: tuple[str, ...] = field(default=())

    # -- effective values (service defaults applied) ------------------------------------------

    @property
    def public_enabled(self) -> bool:
        """``publicNetworkAccess`` defaults to Enabled."""
        return (self.public_network_access or "Enabled").lower() != "disabled"

    @property
    def default_deny(self) -> bool:
        """``networkRuleSet.defaultAction`` defaults to Allow."""
        return (self.default_action or "Allow").lower() == "deny"

    @property
    def bypass_azure_services(self) -> bool:
        """``networkRuleBypassOptions`` defaults to AzureServices."""
        return (self.bypass_options or "AzureServices").lower() == "azureservices"

    @property
    def tasks_bypass_effective(self) -> bool:
        """``networkRuleBypassAllowedForTasks`` defaults to false (since 2025-06-01)."""
        return bool(self.tasks_bypass)

    @property
    def dual_stack(self) -> bool:
        return (self.endpoint_protocol or "").lower() == "ipv4andipv6"

    @property
    def regional_endpoints_enabled(self) -> bool:
        return (self.regional_endpoints or "").lower() == "enabled" or bool(self.regional_endpoint_hosts)

    @property
    def premium(self) -> bool | None:
        return None if self.sku is None else self.sku.lower() == "premium"

    @property
    def approved_connections(self) -> tuple[PrivateEndpointConnection, ...]:
        return tuple(c for c in self.connections if c.approved)

    @property
    def restricted(self) -> bool:
        """Network-restricted: public access off, or selected networks only."""
        return not self.public_enabled or self.default_deny

    @property
    def privatelink_zone(self) -> str:
        return f"privatelink.{self.suffix}"

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region a client may be routed to: home, replicas, data endpoint hosts.

        >>> cfg = RegistryConfig(name="r", login_server="r.azurecr.io", suffix="azurecr.io", shape="cli",
        ...                      location="West Europe", replicas=(Replica("eastus"),))
        >>> cfg.regions
        ('westeurope', 'eastus')
        """
        out: list[str] = []
        candidates = [self.location] if self.location else []
        candidates += [r.region for r in self.replicas]
        candidates += [_host_region(h) for h in self.data_endpoint_hosts]
        candidates += [_host_region(h) for h in self.regional_endpoint_hosts]
        for c in candidates:
            region = normalise_region(c) if c else ""
            # ARM region names are letters and digits; anything else cannot be part of a host name
            if region and set(region) <= _NAME_CHARS and region not in out:
                out.append(region)
        return tuple(out)

    @property
    def data_endpoints_on(self) -> bool:
        """Dedicated data endpoints are in use: enabled, listed, or switched on by a private endpoint.

        Creating the first private endpoint switches dedicated data endpoints on by itself
        (documented), so a connection implies them even when an older JSON says otherwise.
        """
        return bool(self.data_endpoint_enabled) or bool(self.data_endpoint_hosts) or bool(self.connections)

    def data_endpoint(self, region: str) -> str:
        """``<reg>.<region>.data.<suffix>``; the listed host wins when the JSON has one."""
        for h in self.data_endpoint_hosts:
            if _host_region(h) == region:
                return h.lower()
        return f"{self.name}.{region}.data.{self.suffix}"

    def regional_endpoint(self, region: str) -> str:
        """``<reg>.<region>.geo.<suffix>``; the listed host wins when the JSON has one."""
        for h in self.regional_endpoint_hosts:
            if _host_region(h) == region:
                return h.lower()
        return f"{self.name}.{region}.geo.{self.suffix}"


#: Blob storage host suffix per registry DNS suffix (public and sovereign clouds).
_STORAGE = {"azurecr.io": "blob.core.windows.net", "azurecr.cn": "blob.core.chinacloudapi.cn",
            "azurecr.us": "blob.core.usgovcloudapi.net"}


def storage_wildcard(suffix: str) -> str:
    """The storage hosts blob downloads are redirected to when data endpoints are off.

    >>> storage_wildcard("azurecr.io")
    '*.blob.core.windows.net'
    """
    return "*." + _STORAGE.get(suffix, "blob.core.windows.net")


def normalise_region(value: str) -> str:
    """ARM region names are lower case without spaces; display names are not.

    >>> normalise_region("West Europe"), normalise_region("eastus2")
    ('westeurope', 'eastus2')
    """
    return "".join(value.split()).lower()


def _host_region(host: str) -> str:
    """The region label of ``<reg>.<region>.data|geo.<suffix>``; ``""`` when there is none."""
    labels = host.lower().split(".")
    return labels[1] if len(labels) >= 4 and labels[2] in ("data", "geo") else ""


# --------------------------------------------------------------------------- reading files

def read_json(source: str, data: bytes | None = None) -> Any:
    """Parse one JSON input, capped at ``MAX_BYTES``; raise ``BadInput`` with a clear reason.

    ``source`` is the path (``-`` for stdin) and names the input in messages; ``data`` is given
    when the bytes did not come from a file (e.g. the output of ``az``).

    >>> read_json("inline", b'{"a": 1}')
    {'a': 1}
    """
    if data is None:
        data = _read_capped(source)
        source = "stdin" if source == "-" else source
    if len(data) > MAX_BYTES:
        raise BadInput(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB; a registry's JSON is a few KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{source}: not UTF-8 text (binary file?); expected the JSON of `az acr show`") from None
    if not text.strip():
        raise BadInput(f"{source}: empty; expected the JSON of `az acr show`")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # An error at the very end, or a string never closed, means the input stops too early.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = " (truncated?)" if truncated else ""
        raise BadInput(f"{source}: not valid JSON{hint}: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # pathologically deep nesting: not a registry, and not our crash
        raise BadInput(f"{source}: JSON nested too deeply to be a registry") from None


def _read_capped(path: str) -> bytes:
    if path == "-":
        import sys

        return _read_stream(sys.stdin.buffer, "stdin")
    p = Path(path)
    try:
        if p.is_dir():
            raise BadInput(f"{path}: is a directory, not a JSON file")
        with p.open("rb") as fh:
            return _read_stream(fh, path)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except PermissionError:
        raise BadInput(f"{path}: permission denied") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_stream(fh: BinaryIO, name: str) -> bytes:
    # Read one byte past the cap so an oversized input is told apart without reading all of it.
    data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BadInput(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB; a registry's JSON is a few KB")
    return data


# --------------------------------------------------------------------------- field access helpers

def _get(obj: Mapping[str, Any], key: str) -> Any:
    """``obj[key]`` with a case-insensitive fallback; ``None`` when absent."""
    if key in obj:
        return obj[key]
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return None


def _has(obj: Mapping[str, Any], key: str) -> bool:
    low = key.lower()
    return any(isinstance(k, str) and k.lower() == low for k in obj)


def _typed(obj: Mapping[str, Any], key: str, where: str, kind: type[_T], label: str) -> _T | None:
    """``obj[key]`` when it has type ``kind``; ``None`` when absent; ``BadInput`` naming the field otherwise."""
    v = _get(obj, key)
    if v is None or isinstance(v, kind):
        return v
    raise BadInput(f"{where}{key}: expected {label}, got {_kind(v)}")


def _str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    return _typed(obj, key, where, str, "a string")


def _bool(obj: Mapping[str, Any], key: str, where: str) -> bool | None:
    v = _get(obj, key)
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise BadInput(f"{where}{key}: expected true or false, got {v!r}"[:200])


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any] | None:
    return _typed(obj, key, where, list, "a list")


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"{where}: expected a JSON object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    return "a JSON " + {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "null")


def _props(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """REST nests under ``properties``; the CLI flattens. Merge so either works (CLI wins)."""
    nested = _get(obj, "properties")
    if isinstance(nested, dict):
        return {**nested, **{k: v for k, v in obj.items() if k.lower() != "properties"}}
    return obj


def _items(value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list answer: a bare array (CLI), ``{"value": [...]}`` (REST) or a single object."""
    if isinstance(value, dict):
        inner = _get(value, "value")
        value = inner if isinstance(inner, list) else [value]
    if not isinstance(value, list):
        raise BadInput(f"{where}: expected a JSON array or {{\"value\": [...]}}, got {_kind(value)}")
    return [_obj(v, f"{where}[{i}]") for i, v in enumerate(value)]


# --------------------------------------------------------------------------- the registry object

def _unwrap_example(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """A REST spec example keeps the body at ``responses.200.body``; take it from there."""
    responses = _get(doc, "responses")
    if isinstance(responses, dict):
        for status in ("200", "201"):
            resp = responses.get(status)
            if isinstance(resp, dict) and isinstance(resp.get("body"), dict):
                return resp["body"]  # type: ignore[no-any-return]
    return doc


def _is_registry(doc: Mapping[str, Any]) -> bool:
    kind = _get(doc, "type")
    if isinstance(kind, str) and kind.lower() == _REGISTRY_TYPE:
        return True
    props = _props(doc)
    return any(_has(props, k) for k in _REGISTRY_KEYS)


def parse_registry(doc: Any, source: str = "CONFIG") -> RegistryConfig:
    """Normalise one registry object (CLI or REST shape) into a ``RegistryConfig``.

    >>> cfg = parse_registry({"name": "myreg", "properties": {"loginServer": "myreg.azurecr.io",
    ...     "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "1.2.3.4"}]}}})
    >>> cfg.shape, cfg.default_deny, cfg.ip_rules[0].value, cfg.vnet_rules is None
    ('rest', True, '1.2.3.4', True)
    """
    if not isinstance(doc, dict):
        raise BadInput(f"{source}: {_kind(doc)} is not a registry (expected the JSON object of `az acr show`)")
    doc = _unwrap_example(doc)
    if not _is_registry(doc):
        raise BadInput(f"{source}: not a container registry: none of loginServer, networkRuleSet, "
                       "publicNetworkAccess… found (expected the JSON of `az acr show`)")
    shape = "rest" if isinstance(_get(doc, "properties"), dict) else "cli"
    props = _props(doc)
    where = "properties." if shape == "rest" else ""

    login = _str(props, "loginServer", where)
    raw_name = _str(doc, "name", "")
    if login:
        login = login.strip().lower().rstrip(".")
        name, _, suffix = login.partition(".")
        if not suffix or not set(suffix) <= _HOST_CHARS or ".." in suffix:
            raise BadInput(f"{source}: loginServer {login!r} is not a host name")
    elif raw_name:
        name, suffix = raw_name.strip().lower(), "azurecr.io"
        login = f"{name}.{suffix}"
    else:
        raise BadInput(f"{source}: neither loginServer nor name is given, so the registry's hosts are unknown")
    if not name or not set(name) <= _NAME_CHARS:
        raise BadInput(f"{source}: {name!r} is not a registry name (letters and digits only)")

    sku_obj = _get(doc, "sku")
    sku = _str(sku_obj, "name", "sku.") if isinstance(sku_obj, dict) else None

    nrs_raw = _get(props, "networkRuleSet")
    nrs = _obj(nrs_raw, f"{where}networkRuleSet") if nrs_raw is not None else {}
    nwhere = f"{where}networkRuleSet."
    ip_rules: list[IpRule] = []
    for i, raw in enumerate(_list(nrs, "ipRules", nwhere) or []):
        r, rw = _obj(raw, f"{nwhere}ipRules[{i}]"), f"{nwhere}ipRules[{i}]."
        # REST writes `value`, the SDK/CLI `ipAddressOrRange` (reference §7, trap 2)
        value = _str(r, "value", rw) or _str(r, "ipAddressOrRange", rw)
        if value is None:
            raise BadInput(f"{nwhere}ipRules[{i}]: neither value nor ipAddressOrRange is given")
        ip_rules.append(IpRule(value=value.strip(), action=_str(r, "action", rw) or "Allow"))
    vnet_list = _list(nrs, "virtualNetworkRules", nwhere)
    vnet_rules: tuple[VnetRule, ...] | None = None
    if vnet_list is not None:
        vr: list[VnetRule] = []
        for i, raw in enumerate(vnet_list):
            r, rw = _obj(raw, f"{nwhere}virtualNetworkRules[{i}]"), f"{nwhere}virtualNetworkRules[{i}]."
            # REST `id`; `az acr network-rule list` writes virtualNetworkSubnetResourceId
            sid = _str(r, "id", rw) or _str(r, "virtualNetworkSubnetResourceId", rw) or \
                _str(r, "virtualNetworkResourceId", rw)
            if sid:
                vr.append(VnetRule(subnet_id=sid.strip(), action=_str(r, "action", rw) or "Allow"))
        vnet_rules = tuple(vr)

    conns = [parse_connection(c, f"{where}privateEndpointConnections[{i}]")
             for i, c in enumerate(_list(props, "privateEndpointConnections", where) or [])]

    return RegistryConfig(
        name=name,
        login_server=login,
        suffix=suffix,
        shape=shape,
        sku=sku,
        location=_str(doc, "location", ""),
        public_network_access=_str(props, "publicNetworkAccess", where),
        default_action=_str(nrs, "defaultAction", nwhere),
        ip_rules=tuple(ip_rules),
        vnet_rules=vnet_rules,
        bypass_options=_str(props, "networkRuleBypassOptions", where),
        tasks_bypass=_bool(props, "networkRuleBypassAllowedForTasks", where),
        data_endpoint_enabled=_bool(props, "dataEndpointEnabled", where),
        data_endpoint_hosts=_host_list(props, "dataEndpointHostNames", where),
        regional_endpoints=_str(props, "regionalEndpoints", where),
        regional_endpoint_hosts=_host_list(props, "regionalEndpointHostNames", where),
        endpoint_protocol=_str(props, "endpointProtocol", where),
        connections=tuple(conns),
    )


def _host_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, h in enumerate(_list(obj, key, where) or []):
        host = h.strip().lower().rstrip(".") if isinstance(h, str) else None
        if not host or not set(host) <= _HOST_CHARS:
            got = _kind(h) if host is None else repr(h)[:100]
            raise BadInput(f"{where}{key}[{i}]: expected a host name, got {got}")
        out.append(host)
    return tuple(out)


# --------------------------------------------------------------------------- the other inputs

def parse_connection(obj: Any, where: str) -> PrivateEndpointConnection:
    """One private endpoint connection, REST (nested ``properties``) or CLI (flattened)."""
    o = _props(_obj(obj, where))
    pe = _get(o, "privateEndpoint")
    state = _get(o, "privateLinkServiceConnectionState")
    name = _str(o, "name", f"{where}.") or _str(o, "id", f"{where}.") or "(unnamed)"
    return PrivateEndpointConnection(
        name=name.rsplit("/", 1)[-1],
        private_endpoint_id=_str(pe, "id", f"{where}.privateEndpoint.") if isinstance(pe, dict) else None,
        status=_str(state, "status", f"{where}.privateLinkServiceConnectionState.")
        if isinstance(state, dict) else None,
        description=_str(state, "description", f"{where}.privateLinkServiceConnectionState.")
        if isinstance(state, dict) else None,
    )


def parse_replications(doc: Any, where: str = "replications") -> tuple[Replica, ...]:
    """``az acr replication list`` (array) or the REST list (``{"value": [...]}``)."""
    out: list[Replica] = []
    for i, item in enumerate(_items(doc, where)):
        o = _props(item)
        loc = _str(o, "location", f"{where}[{i}].")
        if not loc:
            raise BadInput(f"{where}[{i}]: a replication without location (is this a replication list?)")
        status = _get(o, "status")
        out.append(Replica(
            region=normalise_region(loc),
            region_endpoint_enabled=_bool(o, "regionEndpointEnabled", f"{where}[{i}]."),
            status=_str(status, "displayStatus", "") if isinstance(status, dict) else None,
        ))
    return tuple(out)


def parse_connections(doc: Any, where: str = "privateEndpointConnections") -> tuple[PrivateEndpointConnection, ...]:
    """``az acr private-endpoint-connection list`` or its REST list."""
    return tuple(parse_connection(o, f"{where}[{i}]") for i, o in enumerate(_items(doc, where)))


def parse_zone_records(doc: Any, suffix: str, where: str = "privateDnsRecordSets") -> tuple[DnsRecord, ...]:
    """A records of the ``privatelink.<suffix>`` zone (``az network private-dns record-set a list``).

    Record sets of other types (SOA, CNAME…) and of other zones are skipped: a full
    ``record-set list`` of the zone is accepted as it is.

    >>> parse_zone_records([{"name": "myreg", "aRecords": [{"ipv4Address": "10.0.0.5"}],
    ...     "fqdn": "myreg.privatelink.azurecr.io."}], "azurecr.io")[0].host
    'myreg.azurecr.io'
    """
    zone = f"privatelink.{suffix}"
    out: list[DnsRecord] = []
    for i, item in enumerate(_items(doc, where)):
        o = _props(item)
        a = _list(o, "aRecords", f"{where}[{i}].")
        if a is None:
            continue
        addrs = tuple(str(_get(_obj(r, f"{where}[{i}].aRecords"), "ipv4Address") or "") for r in a)
        fqdn = (_str(o, "fqdn", f"{where}[{i}].") or "").lower().rstrip(".")
        if not fqdn:
            rel = (_str(o, "name", f"{where}[{i}].") or "").lower()
            if not rel:
                continue
            fqdn = f"{rel}.{zone}"
        if not fqdn.endswith("." + zone):
            continue
        host = fqdn[: -len(zone) - 1] + "." + suffix
        out.append(DnsRecord(host=host, zone_name=fqdn, addresses=tuple(x for x in addrs if x), source="zone"))
    return tuple(out)


def parse_private_endpoints(doc: Any, suffix: str, where: str = "privateEndpoints") -> tuple[DnsRecord, ...]:
    """``customDnsConfigs`` of ``az network private-endpoint show`` (one object or a list).

    These are the addresses on the private endpoint's network interface: what each name must
    resolve to (reference §3). Names of other services are skipped.
    """
    zone = f"privatelink.{suffix}"
    out: list[DnsRecord] = []
    for i, item in enumerate(_items(doc, where)):
        o = _props(item)
        for j, raw in enumerate(_list(o, "customDnsConfigs", f"{where}[{i}].") or []):
            c = _obj(raw, f"{where}[{i}].customDnsConfigs[{j}]")
            fqdn = (_str(c, "fqdn", "") or "").lower().rstrip(".")
            ips = _list(c, "ipAddresses", "") or []
            if not fqdn.endswith("." + suffix) or fqdn.endswith("." + zone):
                continue
            zone_name = fqdn[: -len(suffix) - 1] + "." + zone
            out.append(DnsRecord(host=fqdn, zone_name=zone_name, addresses=tuple(str(x) for x in ips),
                                 source="endpoint"))
    return tuple(out)


# --------------------------------------------------------------------------- assembling

@dataclass(frozen=True)
class Inputs:
    """The JSON documents the user gave, already parsed (each ``None`` when not given)."""

    registry: Any
    replications: Any = None
    connections: Any = None
    zone_records: Any = None
    private_endpoints: Any = None
    source: str = "CONFIG"


_COMBINED_KEYS = {
    "replications": "replications",
    "privateendpointconnections": "connections",
    "privatednsrecordsets": "zone_records",
    "dnsrecords": "zone_records",
    "recordsets": "zone_records",
    "privateendpoints": "private_endpoints",
}


def split_combined(doc: Any, source: str) -> Inputs:
    """A combined file ``{"registry": …, "replications": …, …}``, or a plain registry object."""
    if isinstance(doc, dict) and isinstance(_get(doc, "registry"), dict):
        parts: dict[str, Any] = {}
        for k, v in doc.items():
            target = _COMBINED_KEYS.get(k.lower()) if isinstance(k, str) else None
            if target:
                parts[target] = v
        return Inputs(registry=_get(doc, "registry"), source=source, **parts)
    return Inputs(registry=doc, source=source)


def build(inputs: Inputs | Sequence[Inputs]) -> RegistryConfig:
    """Parse and merge: the registry, then replications, connections and DNS data on top.

    Later inputs extend earlier ones; a connection listed twice (in the registry JSON and in
    a separate list) is kept once, the separate list winning.
    """
    parts = [inputs] if isinstance(inputs, Inputs) else list(inputs)
    if not parts:
        raise BadInput("no registry configuration given")
    cfg = parse_registry(parts[0].registry, parts[0].source)
    replicas: list[Replica] = list(cfg.replicas)
    conns: dict[str, PrivateEndpointConnection] = {c.name: c for c in cfg.connections}
    zone: list[DnsRecord] | None = None
    endpoint: list[DnsRecord] = []
    for p in parts:
        if p.replications is not None:
            replicas = _merge_replicas(replicas, parse_replications(p.replications))
        if p.connections is not None:
            for c in parse_connections(p.connections):
                conns[c.name] = c
        if p.zone_records is not None:
            zone = (zone or []) + list(parse_zone_records(p.zone_records, cfg.suffix))
        if p.private_endpoints is not None:
            endpoint += parse_private_endpoints(p.private_endpoints, cfg.suffix)
    notes = list(cfg.notes)
    cfg = replace(cfg, replicas=tuple(replicas), connections=tuple(conns.values()))
    if cfg.data_endpoints_on and not cfg.regions:
        notes.append("dedicated data endpoints are on but the JSON names no region (no location, "
                     "replications or dataEndpointHostNames): data endpoint hosts are unknown")
    if cfg.vnet_rules is None and cfg.default_deny and cfg.public_enabled:
        notes.append("virtualNetworkRules is absent from this JSON (API 2023-07-01 omits it): service "
                     "endpoint rules cannot be judged; `az acr network-rule list` shows them")
    return replace(cfg, zone_records=None if zone is None else tuple(zone), endpoint_records=tuple(endpoint),
                   notes=tuple(notes))


def _merge_replicas(old: Iterable[Replica], new: Iterable[Replica]) -> list[Replica]:
    by_region = {r.region: r for r in old}
    for r in new:
        by_region[r.region] = r
    return list(by_region.values())


def read_extras(*, replications: str | None = None, connections: str | None = None,
                zone_records: str | None = None, private_endpoints: Sequence[str] = ()) -> Inputs:
    """Read the optional list files (each a path, or ``None`` when not given)."""
    pes: list[Any] = []
    for path in private_endpoints:  # several `private-endpoint show` files make one list
        doc = read_json(path)
        pes += doc if isinstance(doc, list) else [doc]
    return Inputs(
        registry=None,
        replications=read_json(replications) if replications else None,
        connections=read_json(connections) if connections else None,
        zone_records=read_json(zone_records) if zone_records else None,
        private_endpoints=pes or None,
    )


def load(config: str, *, replications: str | None = None, connections: str | None = None,
         zone_records: str | None = None, private_endpoints: Sequence[str] = ()) -> RegistryConfig:
    """Read CONFIG (a file, ``-`` for stdin, possibly combined) plus the optional list files.

    >>> load("/nonexistent.json")
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: /nonexistent.json: no such file
    """
    first = split_combined(read_json(config), "stdin" if config == "-" else config)
    return build([first, read_extras(replications=replications, connections=connections,
                                     zone_records=zone_records, private_endpoints=private_endpoints)])


__all__ = [
    "MAX_BYTES", "DnsRecord", "Inputs", "IpRule", "PrivateEndpointConnection", "RegistryConfig", "Replica",
    "VnetRule", "build", "load", "normalise_region", "parse_connections", "parse_private_endpoints",
    "parse_registry", "parse_replications", "parse_zone_records", "read_extras", "read_json", "split_combined",
    "storage_wildcard",
]
