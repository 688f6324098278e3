"""From the analysed groups to catalogue findings: what each pattern means, with its evidence.

Strategy
--------
Pure: ``Analysis`` values (and, with ``--acr-config``, a judge of addresses) in, ``Finding``
values out; every text comes from the catalogue (``regdoctor.kb``), filled from the evidence
(data: counts, times, top values, bursts) and from a few template values computed here (a list
of top values as text, a ready-to-paste command).

The distinctions the logs allow, and how they are drawn:

* 403 on a *login* is the registry's network rules; the caller's history says whether the rules
  changed (the address was admitted before), whether it is a new address, or whether the refusals
  are intermittent. With the registry's JSON each address is judged by ``acr access``'s model.
* 401 grouped by *identity*: an identity that logged in until some moment and fails everywhere
  since has a dead secret (``LOGS_CREDENTIAL_STOPPED``); otherwise the spread over its addresses
  tells one stale machine from a wrong credential.
* 401 grouped by *address* across three or more identities: guessing, or a shared host.
* 403 on a *repository* operation after a login: the role or token scope.
* 429, 5xx, 404 by identity, region and reference; a 404 is reported when it keeps coming back
  (``min_count`` of them in one burst), as a deployed tag that was deleted does.

Background noise is not a finding: an identity or address that mostly succeeds and fails less
than ``AUTH_NOISE_SHARE`` of the time (a mistyped password now and then, a token refresh race)
stays in the summary's counts only, as do sporadic server errors (``analysis`` leaves them out).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.logs.analysis import Analysis, Group, History, NewAddress, Window
from regdoctor.logs.network import CallerVerdict, Rules
from regdoctor.model import Finding

Judge = Callable[[str], CallerVerdict | None]
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Values listed in a cause before "… N more".
_SHOWN = 5
#: 401s below this share of an identity's (an address's) events, which also succeed, are noise.
AUTH_NOISE_SHARE = 0.02


def _noise(failures: int, hist: History | None) -> bool:
    return hist is not None and hist.ok > 0 and failures < AUTH_NOISE_SHARE * hist.events


# --------------------------------------------------------------------------- small helpers

def iso(value: datetime | None) -> str | None:
    """``2024-05-10T08:10:15Z`` (UTC, whole seconds).

    >>> iso(datetime(2024, 5, 10, 8, 10, 15, 225294))
    '2024-05-10T08:10:15Z'
    """
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def minute(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%MZ")


def listing(pairs: Sequence[tuple[str, int]], shown: int = _SHOWN, total: int | None = None) -> str:
    """``a (4), b (3) and 2 more`` — the top values of a dimension as text.

    >>> listing([("a", 4), ("b", 3), ("c", 1)], shown=2)
    'a (4), b (3) and 1 more'
    """
    head = ", ".join(f"{v} ({n})" for v, n in pairs[:shown])
    more = (total if total is not None else len(pairs)) - min(len(pairs), shown)
    return f"{head} and {more} more" if more > 0 else head or "(none)"


def covering(ips: Iterable[str]) -> str:
    """The smallest network holding every address (the address itself when there is one).

    >>> covering(["20.61.5.40", "20.61.5.33", "20.61.5.63"]), covering(["20.1.2.3"])
    ('20.61.5.32/27', '20.1.2.3')
    """
    addrs = sorted({ipaddress.ip_address(i) for i in ips}, key=lambda a: (a.version, int(a)))
    if not addrs:
        return ""
    if len(addrs) == 1 or len({a.version for a in addrs}) > 1:
        return str(addrs[0]) if len(addrs) == 1 else ", ".join(str(a) for a in addrs)
    lo, hi = int(addrs[0]), int(addrs[-1])
    bits = addrs[0].max_prefixlen
    prefix = bits - (lo ^ hi).bit_length()
    return str(ipaddress.ip_network((lo, prefix), strict=False))


def registry_name(login_server: str | None) -> str:
    """``contosoprod`` for ``contosoprod.azurecr.io`` (``<registry>`` when unknown)."""
    return login_server.split(".", 1)[0] if login_server else "<registry>"


def identity_kind(identity: str | None, registry: str) -> str:
    """What kind of principal an ACR ``Identity`` value names.

    >>> identity_kind("alice@contoso.com", "r"), identity_kind("<token>", "r"), identity_kind("R", "r")
    ('user', 'repository-scoped token', 'admin user')
    """
    if not identity:
        return "anonymous"
    if identity.startswith("<") and "token" in identity.lower():
        return "repository-scoped token"
    if identity.lower() == registry.lower():
        return "admin user"
    if _GUID_RE.match(identity):
        return "service principal or managed identity"
    if "@" in identity:
        return "user"
    return "user or token"


def renew_command(kind: str, identity: str, registry: str, host: str) -> str:
    if kind == "service principal or managed identity":
        return (f"`az ad sp credential reset --id {identity}` for a service principal (a managed identity has no "
                "secret: check it is still assigned to the node or pod and has AcrPull)")
    if kind == "repository-scoped token":
        return f"`az acr token credential generate --name <token-name> --registry {registry}`"
    if kind == "admin user":
        return f"`az acr credential renew --name {registry} --password-name password` (better: disable the admin user)"
    return f"log in again with the current password or token: `az acr login --name {registry}` or `docker login {host}`"


def _windows(bursts: Sequence[Window]) -> list[dict[str, Any]]:
    return [{"start": iso(w.start), "end": iso(w.end), "count": w.count, "peak_per_minute": w.peak_per_minute}
            for w in bursts]


def _base_evidence(g: Group) -> dict[str, Any]:
    return {
        "count": g.count,
        "first": iso(g.first),
        "last": iso(g.last),
        "peak_per_minute": g.peak_per_minute,
        "peak_minute": minute(g.peak_minute),
        "bursts": _windows(g.bursts),
        "identities": g.identities,
        "addresses": g.ips,
        "top": {dim: [{"value": v, "count": n} for v, n in vals] for dim, vals in g.top.items() if dim != "ip"},
    }


def _finding(code: Code, host: str | None, evidence: Mapping[str, Any], texts: Mapping[str, Any],
             root_cause: bool = True) -> Finding:
    return kb.code(code).finding(host=host, evidence=evidence, extra=texts, root_cause=root_cause)


# --------------------------------------------------------------------------- firewall

def _history_text(g: Group, ips: Sequence[str], hist: Mapping[str, History], window_start: datetime | None) -> str:
    seen = [hist[i] for i in ips if i in hist]
    ok = sum(h.ok for h in seen)
    if ok == 0:
        if window_start is not None and (g.first - window_start).total_seconds() > 3600:
            return f"none of these addresses had called the registry before {iso(g.first)} (new addresses)"
        return "none of them was ever admitted in these logs"
    last_ok = max((h.last_ok for h in seen if h.last_ok), default=None)
    first_ok = min((h.first_ok for h in seen if h.first_ok), default=None)
    if first_ok and first_ok < g.first and last_ok and last_ok < g.first:
        return (f"the same addresses logged in {ok} times until {iso(last_ok)} and are refused since, so the "
                f"network rules likely changed at about {iso(g.first)}")
    return f"the same addresses also logged in {ok} times in this period, so the refusals are intermittent"


def _rules_text(verdicts: Sequence[CallerVerdict], rules: Rules | None) -> tuple[str, str]:
    """(what the current rules say about the addresses, which rule decides)."""
    if rules is None or not verdicts:
        return ("the registry's network rules refused them (no IP rule with default action Deny, or public network "
                "access disabled; --acr-config with the `az acr show` JSON tells which)", "")
    denied = [v for v in verdicts if not v.allowed]
    allowed = [v for v in verdicts if v.allowed]
    decided = sorted({v.rule for v in verdicts})
    if denied and not allowed:
        if all(v.rule == "defaultAction=Deny" for v in denied):
            n = len(rules.ip_rules)
            return (f"not in ipRules ({n} rule{'s' if n != 1 else ''}), public network access {rules.public_access} "
                    f"with default action {rules.default_action}", "defaultAction=Deny")
        if all(v.rule.startswith("publicNetworkAccess=Disabled") for v in denied):
            return ("public network access is Disabled, so only traffic through a private endpoint gets in",
                    "publicNetworkAccess=Disabled")
        return ("the current rules refuse them: " + "; ".join(sorted({v.reason for v in denied}))[:400],
                ", ".join(decided))
    if allowed and not denied:
        return (f"the registry's current rules admit them ({', '.join(sorted({v.rule for v in allowed}))}), so the "
                "denials predate a rule change or the registry saw another address", "allowed")
    return (f"the current rules refuse {len(denied)} of them ({', '.join(sorted({v.rule for v in denied}))}) and "
            f"admit {len(allowed)} ({', '.join(sorted({v.rule for v in allowed}))})", ", ".join(decided))


def _rule_fix(decided: str, caller: str, registry: str, host: str, private: bool) -> str:
    add = f"`az acr network-rule add --name {registry} --ip-address {caller}`"
    if private:
        return ("note that these are private addresses: traffic through a private endpoint is not governed by "
                f"ipRules, so check the private endpoint and its DNS (`regdoctor acr dns`, `regdoctor check {host}`) "
                "rather than adding an IP rule")
    if decided == "publicNetworkAccess=Disabled":
        return (f"either reach the registry through its private endpoint, or open public access for selected "
                f"networks (`az acr update --name {registry} --public-network-enabled true --default-action Deny`) "
                f"and then allow it: {add}")
    if decided == "allowed":
        return (f"nothing needs adding today: the current rules admit {caller}; if refusals continue, find the "
                f"address the registry really sees (`regdoctor check {host}` shows the egress IP)")
    return f"allow it: {add}"


def firewall_findings(a: Analysis, rules: Rules | None, judge: Judge | None) -> list[Finding]:
    out = []
    for g in a.denied:
        host = g.key[0]
        ip_counts = list(g.top.get("ip", ()))
        ips = [ip for ip, _ in ip_counts]
        try:
            caller = covering(ips) if ips else (g.key[1] or "(unknown)")
        except ValueError:
            caller = g.key[1] or "(unknown)"
        verdicts = [v for v in (judge(ip) for ip in ips) if v is not None] if judge else []
        registry = rules.registry if rules else registry_name(host)
        rules_text, decided = _rules_text(verdicts, rules)
        private = bool(ips) and all(_is_private(ip) for ip in ips)
        ev = _base_evidence(g)
        ev.update({"login_server": host, "caller": caller, "per_address": dict(ip_counts)})
        if verdicts:
            ev["network_rules"] = [v.to_dict() for v in verdicts]
        who = caller if g.ips == 1 else f"{caller} ({g.ips} addresses: {listing(ip_counts, total=g.ips)})"
        texts = {"caller": caller, "who": who,
                 "history": _history_text(g, ips, a.ip_history, a.window_start), "network_rules": rules_text,
                 "rule_fix": _rule_fix(decided, caller, registry, host or "<registry>", private),
                 "registry": registry, "first": iso(g.first), "last": iso(g.last),
                 "peak_minute": minute(g.peak_minute)}
        out.append(_finding(Code.LOGS_FIREWALL_DENIALS, host, ev, texts))
    return out


def _is_private(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return addr.is_private and not addr.is_global


# --------------------------------------------------------------------------- 401

def auth_findings(a: Analysis) -> list[Finding]:
    """401s: addresses failing as many identities first, then identities (an identity whose
    every failure came from such an address is that address's finding, not one of its own)."""
    out = []
    guessing: set[str] = set()
    for g in a.auth_ip:
        host, ip = g.key[0], g.key[1] or ""
        if _noise(g.count, a.ip_history.get(ip)):
            continue
        ev = _base_evidence(g)
        ev.update({"login_server": host, "caller_ip": ip})
        ids = list(g.top.get("identity", ()))
        texts: dict[str, Any] = {"caller_ip": ip, "identities": g.identities,
                                 "identity_list": listing(ids, total=g.identities),
                 "clients": listing(list(g.top.get("client", ()))), "registry": registry_name(host),
                 "first": iso(g.first), "last": iso(g.last)}
        out.append(_finding(Code.LOGS_AUTH_FAILURES_IP, host, ev, texts))
        guessing.add(ip)
    for g in a.auth_identity:
        host, identity = g.key[0], g.key[1] or ""
        registry = registry_name(host)
        kind = identity_kind(identity, registry)
        hist = a.identity_history.get(identity)
        failing_ips = {ip for ip, _ in g.top.get("ip", ())}
        if _noise(g.count, hist) or (len(failing_ips) == g.ips and failing_ips <= guessing):
            continue
        ev = _base_evidence(g)
        ev.update({"login_server": host, "identity": identity, "identity_kind": kind,
                   "per_address": dict(g.top.get("ip", ()))})
        texts = {"identity": identity, "identity_kind": kind, "address_count": g.ips,
                                 "addresses": listing(list(g.top.get("ip", ())), total=g.ips),
                                 "clients": listing(list(g.top.get("client", ()))), "registry": registry,
                                 "renew": renew_command(kind, identity, registry, host or "<registry>"),
                                 "first": iso(g.first), "last": iso(g.last)}
        if hist is not None:
            ev.update({"successes": hist.ok, "last_success": iso(hist.last_ok), "known_addresses": hist.ips})
        if hist is not None and hist.ok and hist.last_ok is not None and hist.last_ok < g.first:
            texts.update({"ok": hist.ok, "last_success": iso(hist.last_ok), "known_addresses": hist.ips})
            out.append(_finding(Code.LOGS_CREDENTIAL_STOPPED, host, ev, texts))
            continue
        known = hist.ips if hist else g.ips
        if hist is not None and hist.ok == 0:
            spread = "it never logged in successfully in this period"
        elif g.ips <= 1:
            spread = "all from one address while it logs in fine elsewhere: that machine holds a wrong or stale secret"
        elif g.ips >= 0.8 * known:
            spread = (f"from {g.ips} of its {known} addresses, so the credential itself is wrong rather than one "
                      "machine's copy of it")
        else:
            spread = (f"from {g.ips} of its {known} addresses while the others log in fine: those machines hold a "
                      "stale secret")
        texts["spread"] = spread
        out.append(_finding(Code.LOGS_AUTH_FAILURES_IDENTITY, host, ev, texts))
    return out


# --------------------------------------------------------------------------- other classes

_ROLE = {"pull": "AcrPull", "push": "AcrPush", "delete": "AcrDelete", "untag": "AcrDelete"}


def other_findings(a: Analysis, min_count: int = 3) -> list[Finding]:
    out = []
    for g in a.permission:
        host, identity = g.key[0], g.key[1] or "(anonymous)"
        ops = list(g.top.get("operation", ()))
        role = next((r for op, _ in ops for k, r in _ROLE.items() if k in op.lower()), "AcrPush")
        ev = _base_evidence(g)
        ev.update({"login_server": host, "identity": identity, "role": role})
        texts: dict[str, Any] = {"identity": identity, "operations": listing(ops), "role": role,
                 "repositories": listing(list(g.top.get("repository", ()))), "registry": registry_name(host),
                 "first": iso(g.first), "last": iso(g.last)}
        out.append(_finding(Code.LOGS_PERMISSION_DENIED, host, ev, texts))
    for g in a.throttled:
        host, who = g.key[0], g.key[1]
        ev = _base_evidence(g)
        ev.update({"login_server": host, "identity": who, "per_address": dict(g.top.get("ip", ()))})
        texts = {"identity": who or "anonymous callers", "address_count": g.ips,
                 "addresses": listing(list(g.top.get("ip", ())), total=g.ips), "registry": registry_name(host),
                 "first": iso(g.first), "last": iso(g.last), "peak_minute": minute(g.peak_minute)}
        out.append(_finding(Code.LOGS_THROTTLED, host, ev, texts))
    for g in a.server:
        host, region = g.key[0], g.key[1] or "(unknown region)"
        total = a.region_events.get((g.key[0], g.key[1]), 0)
        corr = list(a.correlation_ids.get(g.key, ()))
        ev = _base_evidence(g)
        ev.update({"login_server": host, "region": region, "correlation_ids": corr, "region_events": total})
        texts = {"region": region, "statuses": listing(list(g.top.get("status", ()))),
                 "correlation_ids": ", ".join(corr) or "(none in the export)", "first": iso(g.first),
                 "last": iso(g.last), "peak_minute": minute(g.peak_minute)}
        out.append(_finding(Code.LOGS_SERVER_ERRORS, host, ev, texts))
    for g in a.not_found:
        if max((w.count for w in g.bursts), default=0) < min_count:
            continue  # a stray 404 now and then (a probe, a typo fixed at once), not a pull that keeps failing
        host, reference = g.key[0], g.key[1] or "(no repository)"
        repo, _, tag = reference.partition(":")
        ev = _base_evidence(g)
        ev.update({"login_server": host, "repository": repo, "tag": tag or None, "reference": reference})
        texts = {"repository": repo, "reference": reference,
                 "identity_list": listing(list(g.top.get("identity", ())), total=g.identities),
                 "registry": registry_name(host), "first": iso(g.first), "last": iso(g.last)}
        out.append(_finding(Code.LOGS_NOT_FOUND, host, ev, texts))
    return out


# --------------------------------------------------------------------------- new addresses

def new_address_findings(a: Analysis, explained: set[str], min_count: int) -> list[Finding]:
    """New addresses with failures, one finding per login server and /24 (or IPv6 address).

    ``explained`` holds addresses another finding already names as a cause; a group made only
    of those is reported as a consequence (``root_cause`` false)."""
    groups: dict[tuple[str | None, str], list[NewAddress]] = {}
    for n in a.new_addresses:
        groups.setdefault((n.login_server, n.net), []).append(n)
    out = []
    for (host, _net), members in sorted(groups.items(), key=lambda kv: -sum(m.failures for m in kv[1])):
        failures = sum(m.failures for m in members)
        if failures < min_count:
            continue
        ips = [m.ip for m in members]
        try:
            caller = covering(ips)
        except ValueError:
            caller = ips[0]
        events = sum(m.events for m in members)
        first_seen = min(m.first_seen for m in members)
        statuses = sorted({s for m in members for s in m.statuses})
        per = sorted(((m.ip, m.failures) for m in members), key=lambda p: (-p[1], p[0]))
        ev = {"login_server": host, "caller": caller, "first_seen": iso(first_seen), "events": events,
              "failures": failures, "statuses": statuses, "per_address": dict(per),
              "window_start": iso(a.window_start), "baseline_end": iso(a.baseline_end)}
        who = caller if len(members) == 1 else f"{caller} ({len(members)} addresses: {listing(per)})"
        texts = {"caller": caller, "who": who,
                 "first_seen": iso(first_seen), "window_start": iso(a.window_start),
                 "statuses": ", ".join(str(s) for s in statuses), "registry": registry_name(host)}
        root = not set(ips) <= explained
        out.append(_finding(Code.LOGS_NEW_CALLER_IP, host, ev, texts, root_cause=root))
    return out


# --------------------------------------------------------------------------- all of them

def findings(a: Analysis, *, files: Sequence[tuple[str, int, int]] = (), rules: Rules | None = None,
             judge: Judge | None = None, min_count: int = 3, scope: str = "") -> list[Finding]:
    """Every finding, in catalogue-meaningful order (firewall, credentials, the rest, new addresses).

    ``files`` is ``(path, rows read, rows skipped)`` per input file.
    """
    out: list[Finding] = []
    for path, rows, skipped in files:
        if skipped:
            out.append(_finding(Code.LOGS_INPUT_SKIPPED, None, {"file": path, "skipped": skipped,
                                                             "records": rows + skipped}, {}, root_cause=False))
    if a.summary.events == 0:
        out.append(_finding(Code.LOGS_NO_EVENTS, None, {"scope": scope}, {"scope": scope or "at all"},
                            root_cause=False))
        return out
    fw = firewall_findings(a, rules, judge)
    out += fw
    out += auth_findings(a)
    out += other_findings(a, min_count)
    explained = {ip for f in fw for ip in f.evidence.get("per_address", {})}
    explained |= {str(f.evidence.get("caller_ip")) for f in out if f.code == Code.LOGS_AUTH_FAILURES_IP}
    out += new_address_findings(a, explained, min_count)
    return out


__all__ = ["covering", "findings", "identity_kind", "iso", "listing", "registry_name", "renew_command"]
