"""The registry object (``az acr show``, CLI or REST shape) → ``RegistryConfig``; its schema as code.

Strategy
--------
The same registry reaches us in two shapes (reference §7): ``az acr show -o json`` puts the
settings at the top level and keys IP rules ``ipAddressOrRange``; the ARM REST response nests
them under ``properties`` and keys IP rules ``value``; a REST spec example wraps the body in
``responses.200.body``. Both are read by one function, with the schema of every field the model
reads written out below (type, and for enums the values the REST specification allows). A
field of the wrong type or with an unknown value is refused with the file and the key; fields
the model does not read are ignored, whatever they hold.
"""

from __future__ import annotations

from typing import Any

from regdoctor.acr import fields as f
from regdoctor.acr.fields import At, Obj
from regdoctor.acr.model import IpRule, PrivateEndpointConnection, RegistryConfig, VnetRule
from regdoctor.acr.regions import parse_region

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HOST_CHARS = _NAME_CHARS | frozenset(".-")
_REGISTRY_TYPE = "microsoft.containerregistry/registries"
#: Keys that only a registry resource carries; one of them (or the type) identifies one.
_REGISTRY_KEYS = ("loginServer", "networkRuleSet", "publicNetworkAccess", "dataEndpointEnabled",
                  "networkRuleBypassOptions", "dataEndpointHostNames", "adminUserEnabled",
                  "privateEndpointConnections", "networkRuleBypassAllowedForTasks", "anonymousPullEnabled",
                  "endpointProtocol", "regionalEndpoints")

# Enums of the REST specification (and the 2025+ preview API versions for the newer fields).
SKUS = ("Classic", "Basic", "Standard", "Premium")
PUBLIC_ACCESS = ("Enabled", "Disabled")
DEFAULT_ACTIONS = ("Allow", "Deny")
RULE_ACTIONS = ("Allow",)  # IPRule.action and VirtualNetworkRule.action: "Allow" is the only value
BYPASS_OPTIONS = ("AzureServices", "None")
REGIONAL_ENDPOINTS = ("Enabled", "Disabled")
ENDPOINT_PROTOCOLS = ("IPv4", "IPv4AndIPv6")
CONNECTION_STATES = ("Approved", "Pending", "Rejected", "Disconnected")


def host_name(value: Any, at: At) -> str:
    """A DNS host name (lower case, no trailing dot), or ``BadInput`` naming the key.

    >>> host_name("MyReg.AzureCR.io.", At("f"))
    'myreg.azurecr.io'
    """
    if not isinstance(value, str):
        at.fail(f"expected a host name, got {f.kind(value)}")
    host = value.strip().lower().rstrip(".")
    labels = host.split(".")
    if (not host or len(host) > 253 or not set(host) <= _HOST_CHARS or len(labels) < 2
            or any(not lb or len(lb) > 63 or lb.startswith("-") or lb.endswith("-") for lb in labels)):
        at.fail(f"{f.echo(value)} is not a host name")
    return host


def region_of(parent: Obj, key: str, at: At) -> str | None:
    """A region name field (``location``), normalised; ``BadInput`` when it is not one."""
    value = f.text(parent, key, at)
    if value is None:
        return None
    try:
        return parse_region(value)
    except ValueError as exc:
        at.key(key).fail(str(exc))


def _unwrap_example(doc: Obj) -> tuple[Obj, At | None]:
    """A REST spec example keeps the body at ``responses.200.body``; take it from there."""
    responses = f.get(doc, "responses")
    if isinstance(responses, dict):
        for status in ("200", "201"):
            resp = responses.get(status)
            if isinstance(resp, dict) and isinstance(resp.get("body"), dict):
                return resp["body"], At("", f"responses.{status}.body")
    return doc, None


def is_registry(doc: Obj) -> bool:
    kind = f.get(doc, "type")
    if isinstance(kind, str) and kind.lower() == _REGISTRY_TYPE:
        return True
    props = f.props(doc)
    return any(f.has(props, k) for k in _REGISTRY_KEYS)


def parse_registry(doc: Any, source: str = "CONFIG", *, at: At | None = None) -> RegistryConfig:
    """Normalise one registry object (CLI or REST shape) into a ``RegistryConfig``.

    >>> cfg = parse_registry({"name": "myreg", "properties": {"loginServer": "myreg.azurecr.io",
    ...     "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "1.2.3.4"}]}}})
    >>> cfg.shape, cfg.default_deny, cfg.ip_rules[0].value, cfg.vnet_rules is None
    ('rest', True, '1.2.3.4', True)
    >>> parse_registry({"name": "myreg", "publicNetworkAccess": "Off"}, "show.json")
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: show.json: publicNetworkAccess: expected one of Enabled, Disabled, got 'Off'
    """
    top = at or At(source)
    if not isinstance(doc, dict):
        top.fail(f"{f.kind(doc)} is not a registry (expected the JSON object of `az acr show`)")
    doc, wrapper = _unwrap_example(doc)
    if wrapper is not None:
        top = At(top.source, f"{top.path}.{wrapper.path}" if top.path else wrapper.path)
    if not is_registry(doc):
        top.fail("not a container registry: none of loginServer, networkRuleSet, publicNetworkAccess… found "
                 "(expected the JSON of `az acr show`)")
    shape = "rest" if isinstance(f.get(doc, "properties"), dict) else "cli"
    props = f.props(doc)
    at = top.key("properties") if shape == "rest" else top

    name, login, suffix = _identity(doc, props, top, at)
    sku_obj = f.sub(doc, "sku", top)
    nrs = f.sub(props, "networkRuleSet", at) or {}
    nat = at.key("networkRuleSet")
    vnet = f.array(nrs, "virtualNetworkRules", nat)
    return RegistryConfig(
        name=name,
        login_server=login,
        suffix=suffix,
        shape=shape,
        sku=f.choice(sku_obj, "name", top.key("sku"), SKUS) if sku_obj is not None else None,
        location=region_of(doc, "location", top),
        public_network_access=f.choice(props, "publicNetworkAccess", at, PUBLIC_ACCESS),
        default_action=f.choice(nrs, "defaultAction", nat, DEFAULT_ACTIONS),
        ip_rules=tuple(_ip_rule(r, w) for r, w in f.objects(nrs, "ipRules", nat)),
        vnet_rules=None if vnet is None else tuple(
            rule for r, w in f.objects(nrs, "virtualNetworkRules", nat) if (rule := _vnet_rule(r, w))),
        bypass_options=f.choice(props, "networkRuleBypassOptions", at, BYPASS_OPTIONS),
        tasks_bypass=f.flag(props, "networkRuleBypassAllowedForTasks", at),
        data_endpoint_enabled=f.flag(props, "dataEndpointEnabled", at),
        data_endpoint_hosts=_hosts(props, "dataEndpointHostNames", at),
        regional_endpoints=f.choice(props, "regionalEndpoints", at, REGIONAL_ENDPOINTS),
        regional_endpoint_hosts=_hosts(props, "regionalEndpointHostNames", at),
        endpoint_protocol=f.choice(props, "endpointProtocol", at, ENDPOINT_PROTOCOLS),
        anonymous_pull=f.flag(props, "anonymousPullEnabled", at),
        connections=tuple(parse_connection(c, w) for c, w in f.objects(props, "privateEndpointConnections", at)),
    )


def _identity(doc: Obj, props: Obj, top: At, at: At) -> tuple[str, str, str]:
    """``(name, login server, suffix)`` from ``loginServer``, else from ``name`` (public cloud)."""
    raw_login = f.text(props, "loginServer", at)
    raw_name = f.text(doc, "name", top)
    if raw_login:
        login = host_name(raw_login, at.key("loginServer"))
        name, _, suffix = login.partition(".")
    elif raw_name:
        name, suffix = raw_name.strip().lower(), "azurecr.io"
        login = f"{name}.{suffix}"
    else:
        top.fail("neither loginServer nor name is given, so the registry's hosts are unknown")
    if not name or not set(name) <= _NAME_CHARS:
        top.key("loginServer" if raw_login else "name").fail(
            f"{f.echo(name)} is not a registry name (letters and digits only)")
    return name, login, suffix


def _ip_rule(r: Obj, at: At) -> IpRule:
    # REST writes `value`, the SDK/CLI `ipAddressOrRange` (reference §7, trap 2)
    value = f.text(r, "value", at) or f.text(r, "ipAddressOrRange", at)
    if value is None:
        at.fail("neither value nor ipAddressOrRange is given")
    return IpRule(value=value.strip(), action=f.choice(r, "action", at, RULE_ACTIONS) or "Allow")


def _vnet_rule(r: Obj, at: At) -> VnetRule | None:
    # REST `id`; `az acr network-rule list` writes virtualNetworkSubnetResourceId
    sid = f.text(r, "id", at) or f.text(r, "virtualNetworkSubnetResourceId", at) or \
        f.text(r, "virtualNetworkResourceId", at)
    action = f.choice(r, "action", at, RULE_ACTIONS) or "Allow"
    return VnetRule(subnet_id=sid.strip(), action=action) if sid else None


def _hosts(parent: Obj, key: str, at: At) -> tuple[str, ...]:
    return tuple(host_name(h, at.key(key).index(i)) for i, h in enumerate(f.array(parent, key, at) or []))


def is_connection(o: Obj) -> bool:
    """The object looks like a private endpoint connection (REST or CLI shape)."""
    p = f.props(o)
    kind = f.get(o, "type")
    return (f.has(p, "privateLinkServiceConnectionState") or f.has(p, "privateEndpoint")
            or (isinstance(kind, str) and kind.lower().endswith("/privateendpointconnections")))


def parse_connection(o: Obj, at: At) -> PrivateEndpointConnection:
    """One private endpoint connection, REST (nested ``properties``) or CLI (flattened).

    >>> parse_connection({"name": "pe1", "privateLinkServiceConnectionState": {"status": "pending"}}, At("f")).status
    'Pending'
    """
    if not is_connection(o):
        at.fail("not a private endpoint connection (no privateLinkServiceConnectionState or privateEndpoint)")
    p = f.props(o)
    pat = at.key("properties") if isinstance(f.get(o, "properties"), dict) else at
    pe = f.sub(p, "privateEndpoint", pat)
    state = f.sub(p, "privateLinkServiceConnectionState", pat)
    sat = pat.key("privateLinkServiceConnectionState")
    name = f.text(o, "name", at) or f.text(o, "id", at) or "(unnamed)"
    return PrivateEndpointConnection(
        name=name.rstrip("/").rsplit("/", 1)[-1],
        private_endpoint_id=f.text(pe, "id", pat.key("privateEndpoint")) if pe is not None else None,
        status=f.choice(state, "status", sat, CONNECTION_STATES) if state is not None else None,
        description=f.text(state, "description", sat) if state is not None else None,
    )


__all__ = ["CONNECTION_STATES", "host_name", "is_connection", "is_registry", "parse_connection", "parse_registry",
           "region_of"]
