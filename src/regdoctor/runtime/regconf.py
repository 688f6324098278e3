"""containers/image's choice of the ``[[registry]]`` entry for an image (pure).

podman, buildah, skopeo and CRI-O look an image up in registries.conf with
``sysregistriesv2.FindRegistry(ref.Name())``: among the entries whose ``prefix`` (or
``location`` when there is no prefix) matches the repository name, the LONGEST prefix wins.
That entry's ``blocked`` refuses the pull before any network traffic ("registry X is blocked
in /etc/containers/registries.conf or /etc/containers/registries.conf.d") and its ``insecure``
skips TLS verification. So an entry for ``example.com/team`` that is not blocked beats a
blocked ``example.com``, and a blocked ``*.example.com`` catches every subdomain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regdoctor.runtime.model import Origin


@dataclass(frozen=True)
class RegistryEntry:
    """One ``[[registry]]`` table (or a v1 ``[registries.block]``/``insecure`` name) as read."""

    prefix: str
    location: str
    origin: Origin
    blocked: bool = False
    insecure: bool = False


def ref_matching_prefix(ref: str, prefix: str) -> int:
    """``refMatchingPrefix``: the length of the match of ``prefix`` on ``ref`` (a registry,
    namespace, repository or image reference starting with its host), or -1.

    >>> ref_matching_prefix("example.com/foo/bar:baz", "example.com")
    11
    >>> ref_matching_prefix("docker.io/libraryy", "docker.io/library")
    -1
    """
    if prefix.startswith("*."):
        return _subdomain_match(ref, prefix)
    if len(ref) < len(prefix):
        return -1
    if len(ref) == len(prefix):
        return len(prefix) if ref == prefix else -1
    if not ref.startswith(prefix):
        return -1
    # containers/image notes that this lets "example.com:5000" match "example.com"
    # ("unintended … DON'T RELY ON IT"); the clients do it, so the model does too
    return len(prefix) if ref[len(prefix)] in ":/@" else -1


def _subdomain_match(ref: str, prefix: str) -> int:
    """``refMatchingSubdomainPrefix`` for ``*.example.com`` (the first occurrence of the
    suffix, inside the host part only)."""
    index = ref.find(prefix[1:])
    if index == -1 or "/" in ref[:index]:
        return -1
    index += len(prefix) - 1
    if index == len(ref):
        return index
    return index if ref[index] in ":/@" else -1


def find_registry(entries: Sequence[RegistryEntry], name: str) -> RegistryEntry | None:
    """``FindRegistry``: the entry with the longest matching prefix (the first of equal
    length, as Go's strict ``>`` keeps it), or None.

    >>> e = [RegistryEntry("r.io", "r.io", Origin("a"), blocked=True),
    ...      RegistryEntry("r.io/team", "r.io/team", Origin("b"))]
    >>> find_registry(e, "r.io/team/app").blocked, find_registry(e, "r.io/other/app").blocked
    (False, True)
    """
    best: RegistryEntry | None = None
    for entry in entries:
        if ref_matching_prefix(name, entry.prefix) != -1 and len(entry.prefix) > (len(best.prefix) if best else 0):
            best = entry
    return best


__all__ = ["RegistryEntry", "find_registry", "ref_matching_prefix"]
