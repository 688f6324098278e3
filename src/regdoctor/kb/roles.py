"""Which role a host plays in a pull, and what a failure on it becomes: one table for all.

Strategy
--------
``check`` learns roles by walking the pull (a realm is what the challenge names, a data host is
where a blob redirect goes); ``explain`` must infer them from the host names in a pasted text.
Both ask this module, which reads ``roles.toml``, so the two never disagree about what a
failure on a data or token host means (``wrap``). The file is validated on load against the
catalogue: an unknown code or layer there is a packaging bug (``CatalogueError``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from regdoctor.kb import CatalogueError, code, parse_code
from regdoctor.kb.codes import Code

HostRole = Literal["data", "realm", "cloud_api"]
_ROLES: tuple[HostRole, ...] = ("data", "realm", "cloud_api")


@dataclass(frozen=True)
class RoleRule:
    exact: frozenset[str]
    suffixes: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    paths: tuple[str, ...]

    def matches(self, host: str) -> bool:
        h = host.lower().rstrip(".")
        if h in self.exact:
            return True
        for s in self.suffixes:
            if (h.endswith(s) if s.startswith(".") else (h == s or h.endswith("." + s))):
                return True
        return any(p.match(h) for p in self.patterns)


@dataclass(frozen=True)
class Wrap:
    """What a failure on an endpoint of one role becomes (see ``roles.toml``)."""

    default: Code
    layers: frozenset[str]
    mapping: Mapping[Code, Code]


@dataclass(frozen=True)
class RoleTable:
    rules: Mapping[HostRole, RoleRule]
    wraps: Mapping[str, Wrap]
    host_independent: frozenset[Code]
    #: host-independent when the address dialled was IPv6 (the machine has no IPv6 route at all)
    ipv6_independent: frozenset[Code] = frozenset()
    #: (suffix, registry): the registry a data or token host belongs to
    owners: tuple[tuple[str, str], ...] = ()

    def registry_of(self, host: str) -> str | None:
        """The registry a data or token host serves, when one registry owns it.

        >>> table().registry_of("production.cloudflare.docker.com"), table().registry_of("x.blob.core.windows.net")
        ('docker.io', None)
        """
        h = host.lower().rstrip(".")
        for suffix, registry in self.owners:
            if h.endswith(suffix) if suffix.startswith(".") else (h == suffix or h.endswith("." + suffix)):
                return registry
        return None

    def role_of_host(self, host: str) -> HostRole | None:
        """The role a host name reveals, or None (then it is a registry, or unknown).

        >>> table().role_of_host("myreg.westeurope.data.azurecr.io"), table().role_of_host("auth.docker.io")
        ('data', 'realm')
        >>> table().role_of_host("prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com")
        'data'
        >>> table().role_of_host("myreg.azurecr.io") is None
        True
        """
        for role in _ROLES:
            if self.rules[role].matches(host):
                return role
        return None

    def is_realm_path(self, path: str) -> bool:
        """Does a URL path name a token service (``/oauth2/token``, ``/token``…)?

        >>> table().is_realm_path("/oauth2/token"), table().is_realm_path("/v2/lab/x/manifests/1")
        (True, False)
        """
        p = path.split("?", 1)[0].rstrip("/")
        return any(p.endswith(r) for r in self.rules["realm"].paths)

    def wrap(self, role: str, failure: Code, address: str | None = None) -> Code | None:
        """The code a failure on an endpoint of ``role`` becomes, or None (it stays as it is);
        ``address`` is the one the failing dial went to, when known.

        >>> table().wrap("data", Code.TCP_TIMEOUT), table().wrap("data", Code.HTTP_RATE_LIMITED)
        ('DATA_ENDPOINT_BLOCKED', 'DATA_BLOB_THROTTLED')
        >>> table().wrap("data", Code.PROXY_AUTH_REQUIRED) is None, table().wrap("registry", Code.TCP_TIMEOUT)
        (True, None)
        >>> t, unreachable = table(), Code.TCP_NET_UNREACHABLE
        >>> t.wrap("realm", unreachable, "2600:1f18::1"), t.wrap("realm", unreachable, "10.0.0.1")
        (None, 'AUTH_REALM_UNREACHABLE')
        """
        w = self.wraps.get(role)
        if w is None or failure in self.host_independent or code(failure).layer not in w.layers:
            return None
        if failure in self.ipv6_independent and address is not None and ":" in address.strip("[]"):
            return None
        return w.mapping.get(failure, w.default)


def _strings(raw: Any, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise CatalogueError(f"roles: {what} must be a list of strings")
    return tuple(raw)


def build(raw: Mapping[str, Any]) -> RoleTable:
    """Validate the parsed ``roles.toml``."""
    roles = raw.get("roles")
    if not isinstance(roles, dict) or set(roles) != set(_ROLES):
        raise CatalogueError(f"roles: [roles] must define exactly {list(_ROLES)}")
    rules: dict[HostRole, RoleRule] = {}
    for role in _ROLES:
        entry = roles[role]
        try:
            patterns = tuple(re.compile(p) for p in _strings(entry.get("patterns"), f"{role}.patterns"))
        except re.error as exc:
            raise CatalogueError(f"roles: {role}.patterns: {exc}") from None
        rules[role] = RoleRule(exact=frozenset(s.lower() for s in _strings(entry.get("exact"), f"{role}.exact")),
                               suffixes=tuple(s.lower() for s in _strings(entry.get("suffixes"), f"{role}.suffixes")),
                               patterns=patterns, paths=_strings(entry.get("paths"), f"{role}.paths"))
    wrap = raw.get("wrap")
    if not isinstance(wrap, dict):
        raise CatalogueError("roles: [wrap] is missing")
    wraps: dict[str, Wrap] = {}
    for role in ("data", "realm"):
        w = wrap.get(role)
        if not isinstance(w, dict) or not isinstance(w.get("default"), str):
            raise CatalogueError(f"roles: [wrap.{role}] needs a default code")
        mapping = w.get("map", {})
        if not isinstance(mapping, dict):
            raise CatalogueError(f"roles: [wrap.{role}.map] must be a table")
        wraps[role] = Wrap(default=parse_code(w["default"]),
                           layers=frozenset(_strings(w.get("layers"), f"wrap.{role}.layers")),
                           mapping={parse_code(k): parse_code(v) for k, v in mapping.items()})
    independent = frozenset(parse_code(c) for c in (*_strings(wrap.get("host_independent"), "wrap.host_independent"),
                                                    *_strings(wrap.get("certificate"), "wrap.certificate")))
    owners = raw.get("registry_of", {})
    if not isinstance(owners, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in owners.items()):
        raise CatalogueError("roles: [registry_of] must map host suffixes to registry hosts")
    return RoleTable(rules=rules, wraps=wraps, host_independent=independent,
                     ipv6_independent=frozenset(parse_code(c) for c in _strings(wrap.get("host_independent_ipv6"),
                                                                                  "wrap.host_independent_ipv6")),
                     owners=tuple((k.lower(), v.lower()) for k, v in owners.items()))


@lru_cache(maxsize=1)
def table() -> RoleTable:
    """The packaged table, validated once."""
    import pkgutil  # here: only a failure on a data or token host needs the table
    import tomllib

    data = pkgutil.get_data("regdoctor.kb", "roles.toml")
    if data is None:
        raise CatalogueError("roles.toml is not in the package")
    return build(tomllib.loads(data.decode("utf-8")))


__all__ = ["HostRole", "RoleRule", "RoleTable", "Wrap", "build", "table"]
