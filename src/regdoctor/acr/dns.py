"""Private-endpoint DNS: what each registry name must resolve to, and what it resolves to here.

Strategy
--------
Two halves, kept apart so the deciding half stays pure:

* ``expectations(cfg)`` (pure) lists every name a client looks up — the login server, one data
  endpoint per replica region, one regional endpoint per region when those are on — with the
  record of the ``privatelink`` zone that must answer for it and, when the input says, the
  address: the private endpoint's own ``customDnsConfigs`` (its NIC) win over the zone's A
  records, which are only what someone wrote (reference §3).
* the CLI resolves each name as a client would (system resolver, and the CNAME chain from the
  nameservers) through ``regdoctor.net.dns`` — the only code that opens sockets — and hands the
  answers over as ``Resolution``s; ``judge(...)`` (pure) compares the two and names the finding.

The broken chain of reference §3 (``privatelink`` in the chain, public address at the end) is
the catalogue's existing ``DNS_PRIVATELINK_PUBLIC``; that the signature holds for data
endpoints as for the login server is inferred, and its evidence says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from regdoctor import kb
from regdoctor.acr.addresses import is_public
from regdoctor.acr.model import DnsRecord, RegistryConfig
from regdoctor.kb.codes import Code
from regdoctor.model import Finding

Role = Literal["login", "data", "regional"]


@dataclass(frozen=True)
class Expectation:
    """What one name must resolve to.

    ``private`` is true when the registry is reached through a private endpoint (it has
    private endpoint connections, or private DNS data was given); ``addresses`` is empty when
    the input does not say which private address.
    """

    host: str
    role: Role
    region: str | None
    zone: str
    record: str
    member: str
    private: bool
    addresses: tuple[str, ...] = ()
    source: str = ""

    @property
    def record_label(self) -> str:
        """The record name relative to the zone (``myreg.westeurope.data``)."""
        return self.record[: -len(self.zone) - 1]

    def describe(self) -> str:
        if not self.private:
            return "the registry's public address (no private endpoint)"
        if self.addresses:
            src = {"endpoint": "the private endpoint's customDnsConfigs",
                   "zone": f"the {self.zone} zone records"}.get(self.source, self.source)
            return f"{', '.join(self.addresses)} (from {src})"
        return "a private address of the private endpoint (its address is not in the input)"

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "role": self.role, "region": self.region, "record": self.record,
                "member": self.member, "private": self.private, "addresses": list(self.addresses),
                "source": self.source or None}


def expectations(cfg: RegistryConfig) -> list[Expectation]:
    """Every name a client of ``cfg`` resolves, with what it must resolve to (reference §3).

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "myreg.azurecr.io", "location": "westeurope",
    ...     "privateEndpointConnections": [{"name": "pe1", "privateLinkServiceConnectionState":
    ...                                     {"status": "Approved"}}]})
    >>> [(e.host, e.record, e.member) for e in expectations(cfg)]  # doctest: +NORMALIZE_WHITESPACE
    [('myreg.azurecr.io', 'myreg.privatelink.azurecr.io', 'registry'),
     ('myreg.westeurope.data.azurecr.io', 'myreg.westeurope.data.privatelink.azurecr.io', 'registry_data_westeurope')]
    """
    private = cfg.private_link or bool(cfg.zone_records) or bool(cfg.endpoint_records)
    names: list[tuple[str, Role, str | None, str]] = [(cfg.login_server, "login", None, "registry")]
    if cfg.data_endpoints_on or private:
        names += [(cfg.data_endpoint(r), "data", r, f"registry_data_{r}") for r in cfg.regions]
    if cfg.regional_endpoints_enabled:
        names += [(cfg.regional_endpoint(r), "regional", r, f"registry_{r}") for r in cfg.regions]
    out: list[Expectation] = []
    for host, role, region, member in names:
        record = host[: -len(cfg.suffix) - 1] + "." + cfg.privatelink_zone
        addrs, source = _known_addresses(cfg, host)
        out.append(Expectation(host=host, role=role, region=region, zone=cfg.privatelink_zone, record=record,
                               member=member, private=private, addresses=addrs, source=source))
    return out


def _known_addresses(cfg: RegistryConfig, host: str) -> tuple[tuple[str, ...], str]:
    for records, source in ((cfg.endpoint_records, "endpoint"), (cfg.zone_records or (), "zone")):
        found = _addresses_for(records, host)
        if found:
            return found, source
    return (), ""


def _addresses_for(records: Sequence[DnsRecord], host: str) -> tuple[str, ...]:
    out: list[str] = []
    for rec in records:
        if rec.host == host:
            out += [a for a in rec.addresses if a not in out]
    return tuple(out)


# --------------------------------------------------------------------------- observing

@dataclass(frozen=True)
class Resolution:
    """What one name resolved to from here (the CLI asks ``regdoctor.net.dns``). ``error`` is set when
    it did not resolve."""

    host: str
    resolver: str
    addresses: tuple[str, ...] = ()
    chain: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    error_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"resolver": self.resolver, "addresses": list(self.addresses),
                "chain": [list(c) for c in self.chain], "error": self.error, "error_kind": self.error_kind}


# --------------------------------------------------------------------------- judging

@dataclass(frozen=True)
class DnsCheck:
    expectation: Expectation
    resolution: Resolution
    status: Literal["ok", "problem", "unresolved"]
    findings: tuple[Finding, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.expectation.host, "status": self.status, "expected": self.expectation.to_dict(),
                "resolved": self.resolution.to_dict(), "codes": [f.code for f in self.findings]}


def judge(cfg: RegistryConfig, exp: Expectation, res: Resolution) -> DnsCheck:
    """Compare what ``exp.host`` must resolve to with what it did (pure).

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "myreg.azurecr.io", "privateEndpointConnections": [
    ...     {"name": "pe1", "privateLinkServiceConnectionState": {"status": "Approved"}}]})
    >>> exp = expectations(cfg)[0]
    >>> res = Resolution("myreg.azurecr.io", "10.0.0.10", ("20.1.2.3",),
    ...                  (("myreg.azurecr.io", "myreg.privatelink.azurecr.io"),))
    >>> [f.code for f in judge(cfg, exp, res).findings]
    ['DNS_PRIVATELINK_PUBLIC']
    """
    base: dict[str, Any] = {"role": exp.role, "resolver": res.resolver, "record": exp.record,
                            "chain": [list(c) for c in res.chain]}
    if res.error is not None:
        ev = {**base, "dns_error": res.error, "error_kind": res.error_kind, "expected": list(exp.addresses),
              "basis": "documented"}
        expect = (f"Through the private endpoint it must resolve to {exp.describe()}."
                  if exp.private else "It must resolve to the registry's public address.")
        f = kb.code(Code.ACR_DNS_UNRESOLVED).finding(host=exp.host, evidence=ev, extra={"expectation": expect})
        return DnsCheck(exp, res, "unresolved", (f,))
    public = [a for a in res.addresses if is_public(a)]
    privatelink = next((t for _, t in res.chain if ".privatelink." in f".{t}."), None)
    ev = {**base, "addresses": list(res.addresses), "expected": list(exp.addresses)}
    if privatelink and public:
        # reference §3: the signature of an unlinked zone / missing forwarder (inferred for data hosts)
        basis = "documented" if exp.role == "login" else "inferred"
        f = kb.code(Code.DNS_PRIVATELINK_PUBLIC).finding(
            host=exp.host, evidence={**ev, "privatelink_name": privatelink, "addresses": public, "basis": basis})
        return DnsCheck(exp, res, "problem", (f,))
    if exp.private and public:
        f = kb.code(Code.ACR_DNS_NOT_PRIVATE).finding(
            host=exp.host, evidence={**ev, "basis": "documented"},
            extra={"public_access": "disabled" if cfg.blocks_public else "enabled"})
        return DnsCheck(exp, res, "problem", (f,))
    if exp.private and exp.addresses and not set(res.addresses) & set(exp.addresses):
        f = kb.code(Code.ACR_DNS_WRONG_ADDRESS).finding(host=exp.host, evidence={**ev, "basis": "documented"})
        return DnsCheck(exp, res, "problem", (f,))
    return DnsCheck(exp, res, "ok")


def check(cfg: RegistryConfig, resolutions: Sequence[Resolution]) -> list[DnsCheck]:
    """Judge every expectation against the resolution of the same host (pure)."""
    by_host = {r.host: r for r in resolutions}
    return [judge(cfg, e, by_host[e.host]) for e in expectations(cfg) if e.host in by_host]


__all__ = ["DnsCheck", "Expectation", "Resolution", "check", "expectations", "is_public", "judge"]
