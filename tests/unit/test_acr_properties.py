"""Property tests over the ACR loaders: any JSON becomes a model or a documented error naming the file.

For every input kind (registry, replications, private endpoint connections, private DNS records,
private endpoints / NICs, combined file, raw bytes), arbitrary JSON — random, and valid documents with
one value replaced by random JSON — is loaded. The only exception allowed is ``BadInput``, on one line,
naming the input; no call takes 100 ms. A model that loads then goes through every command
(access, lint, allowlist, dns expectations, the firewall explanation) without an exception either.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timing import bounded

from regdoctor import kb
from regdoctor.acr.access import Client, anonymous_pull, decide
from regdoctor.acr.allowlist import from_config
from regdoctor.acr.dns import expectations
from regdoctor.acr.fields import At
from regdoctor.acr.firewall import explain_denial
from regdoctor.acr.inputs import Document, Inputs, build, split_combined
from regdoctor.acr.lint import lint
from regdoctor.acr.lists import parse_connections, parse_private_endpoints, parse_replications, parse_zone_records
from regdoctor.acr.model import RegistryConfig
from regdoctor.acr.parse import parse_registry
from regdoctor.cli._acr_io import decode
from regdoctor.errors import BadInput
from regdoctor.kb.codes import Code

SOURCE = "in.json"
LIMIT_S = 0.1
KEYS = ["loginServer", "name", "location", "sku", "properties", "networkRuleSet", "defaultAction", "ipRules",
        "value", "ipAddressOrRange", "action", "virtualNetworkRules", "id", "publicNetworkAccess",
        "networkRuleBypassOptions", "networkRuleBypassAllowedForTasks", "dataEndpointEnabled",
        "dataEndpointHostNames", "regionalEndpoints", "regionalEndpointHostNames", "endpointProtocol",
        "anonymousPullEnabled", "privateEndpointConnections", "privateEndpoint", "privateLinkServiceConnectionState",
        "status", "type", "regionEndpointEnabled", "aRecords", "ipv4Address", "fqdn", "customDnsConfigs",
        "ipAddresses", "ipConfigurations", "privateIPAddress", "privateLinkConnectionProperties", "fqdns", "subnet",
        "registry", "replications", "privateDnsRecordSets", "privateEndpoints", "responses", "200", "body"]
VALUES = ["Allow", "Deny", "Enabled", "Disabled", "Premium", "Standard", "Basic", "AzureServices", "None", "IPv4",
          "IPv4AndIPv6", "Approved", "Pending", "westeurope", "East US 2", "west europe!", "reg1.azurecr.io",
          "reg1.eastus.data.azurecr.io", "reg1.privatelink.azurecr.io.", "10.0.0.5", "20.1.2.0/24", "1.2.3.4/33",
          "2001:db8::/32", "", "Microsoft.Network/privateEndpoints", "Microsoft.Network/networkInterfaces",
          "Microsoft.Network/privateDnsZones/A", "Microsoft.ContainerRegistry/registries", "@"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                    st.sampled_from(VALUES), st.text(max_size=30))
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                            st.dictionaries(keys, inner, max_size=6)), max_leaves=40)

VALID_REGISTRY: dict[str, Any] = {
    "name": "reg1", "location": "westeurope", "sku": {"name": "Premium"},
    "properties": {"loginServer": "reg1.azurecr.io", "publicNetworkAccess": "Enabled",
                   "networkRuleSet": {"defaultAction": "Deny",
                                      "ipRules": [{"action": "Allow", "value": "20.1.2.0/24"}],
                                      "virtualNetworkRules": [{"action": "Allow",
                                                               "id": "/subscriptions/s/x/subnets/a"}]},
                   "dataEndpointEnabled": True, "dataEndpointHostNames": ["reg1.westeurope.data.azurecr.io"],
                   "endpointProtocol": "IPv4", "regionalEndpoints": "Enabled",
                   "privateEndpointConnections": [{"name": "pe1", "properties": {
                       "privateEndpoint": {"id": "/x/pe1"},
                       "privateLinkServiceConnectionState": {"status": "Approved"}}}]},
}
VALID_LISTS: dict[str, Any] = {
    "replications": {"value": [{"location": "westeurope", "properties": {"regionEndpointEnabled": True,
                                                                         "status": {"displayStatus": "Ready"}}}]},
    "connections": [{"name": "pe2", "privateLinkServiceConnectionState": {"status": "Pending"}}],
    "zone_records": [{"name": "reg1", "aRecords": [{"ipv4Address": "10.0.0.4"}]},
                     {"fqdn": "reg1.westeurope.data.privatelink.azurecr.io.",
                      "aRecords": [{"ipv4Address": "10.0.0.5"}]}],
    "private_endpoints": [{"type": "Microsoft.Network/privateEndpoints", "subnet": {"id": "/s/v/subnets/pe"},
                           "customDnsConfigs": [{"fqdn": "reg1.azurecr.io", "ipAddresses": ["10.0.0.4"]}]},
                          {"ipConfigurations": [{"privateIPAddress": "10.0.0.5", "privateLinkConnectionProperties": {
                              "fqdns": ["reg1.westeurope.data.azurecr.io"]}}]}],
}


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with the value at one random path replaced by random JSON."""
    doc = copy.deepcopy(doc)
    node = doc
    while True:
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) \
            else []
        if not children:
            return draw(json_values)
        key, child = draw(st.sampled_from(children))
        if not isinstance(child, dict | list) or draw(st.booleans()):
            node[key] = draw(json_values)
            return doc
        node = child


def _load(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except BadInput as exc:
        message = str(exc)
        assert message.startswith(SOURCE), message
        assert "\n" not in message and len(message) < 600, message
        return None


def _timed_load(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` within ``LIMIT_S``; a slow call is timed once more, so that a scheduling hiccup on a
    shared machine is told apart from an input that is slow every time."""
    return bounded(lambda: _load(fn, *args), LIMIT_S, what=getattr(fn, "__name__", str(fn)))


def _every_command(cfg: RegistryConfig) -> None:
    """A model that loaded goes through every pure command without an exception."""
    t0 = time.perf_counter()
    for client in (Client.from_ip("20.1.2.3"), Client.from_ip("2001:db8::1"), Client("private-endpoint"),
                   Client("subnet", "/subscriptions/s/x/subnets/a"), Client("service", "aci", "user"),
                   Client("service", "tasks")):
        decide(cfg, client)
    anonymous_pull(cfg)
    lint(cfg)
    from_config(cfg, ["eastus"])
    expectations(cfg)
    fw = kb.code(Code.HTTP_FIREWALL_DENIED).finding(host=cfg.login_server, evidence={"client_ip": "20.1.2.3"})
    explain_denial(cfg, fw)
    assert time.perf_counter() - t0 < 1.0


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.one_of(json_values, mutated(VALID_REGISTRY)))
def test_registry_loader(doc: Any) -> None:
    cfg = _timed_load(parse_registry, doc, SOURCE)
    if cfg is not None:
        _every_command(cfg)


@FAST
@given(st.sampled_from(sorted(VALID_LISTS)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.one_of(json_values, mutated(VALID_LISTS[kind])))))
def test_list_loaders(kind_doc: tuple[str, Any]) -> None:
    kind, doc = kind_doc
    at = At(SOURCE)
    loaders = {"replications": lambda: parse_replications(doc, at), "connections": lambda: parse_connections(doc, at),
               "zone_records": lambda: parse_zone_records(doc, "azurecr.io", at),
               "private_endpoints": lambda: parse_private_endpoints(doc, "azurecr.io", at)}
    _timed_load(loaders[kind])
    built = _timed_load(lambda: build(Inputs(registry=Document(VALID_REGISTRY, At(SOURCE)),
                                             **{kind: (Document(doc, At(SOURCE)),)})))
    if built is not None:
        _every_command(built)


@FAST
@given(st.one_of(json_values, mutated({"registry": VALID_REGISTRY, "replications": VALID_LISTS["replications"],
                                       "privateDnsRecordSets": VALID_LISTS["zone_records"],
                                       "privateEndpoints": VALID_LISTS["private_endpoints"]})))
def test_combined_file(doc: Any) -> None:
    cfg = _timed_load(lambda: build(split_combined(doc, SOURCE)))
    if cfg is not None:
        _every_command(cfg)


@FAST
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
                 st.integers(1, 5000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)))
def test_raw_bytes(data: bytes) -> None:
    _timed_load(decode, SOURCE, data)


def test_the_valid_documents_load() -> None:
    cfg = build([Inputs(registry=Document(VALID_REGISTRY, At(SOURCE)),
                        **{k: (Document(v, At(SOURCE)),) for k, v in VALID_LISTS.items()})])
    assert cfg.regions == ("westeurope",) and len(cfg.connections) == 2 and cfg.zone_records
    _every_command(cfg)
