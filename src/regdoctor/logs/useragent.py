"""Which client sent a request, and which version, from its ``User-Agent``.

Strategy
--------
One ordered table of rules, each a client name and a pattern whose first group is the version;
the first rule that matches wins. The same table is used twice: ``parse`` in Python (tests, one
value at a time) and ``sql_client``/``sql_version`` as a SQL ``CASE`` that DuckDB runs over the
distinct user agents of the aggregated events. The patterns are written in the common subset of
Python ``re`` and RE2 (DuckDB's engine): no look-around, no back-references, so matching is
linear in the length of the string in both.

The strings are the clients' own: the Docker daemon sends ``docker/<engine> go/… os/… arch/…
UpstreamClient(Docker-Client/<cli> …)``, containerd ``containerd/<v>``, everything built on
``github.com/containers/image`` (podman, skopeo, buildah) ``containers/<lib version>
(github.com/containers/image)``, Helm ``Helm/<v>``, the az CLI ``… AZURECLI/<v> …``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_V = r"v?([0-9][0-9A-Za-z.+_~-]*)"

#: (client, pattern); first match wins, so specific tokens come before generic libraries.
RULES: tuple[tuple[str, str], ...] = (
    ("docker", rf"(?i)^docker/{_V}"),
    ("buildkit", rf"(?i)^buildkit/{_V}"),
    ("containerd", rf"(?i)^containerd/{_V}"),
    ("cri-o", rf"(?i)^cri-o/{_V}"),
    ("podman", rf"(?i)\bpodman/{_V}"),
    ("skopeo", rf"(?i)\bskopeo/{_V}"),
    ("buildah", rf"(?i)\bbuildah/{_V}"),
    ("containers/image", rf"(?i)^containers/{_V} \(github\.com/containers/image\)"),
    ("helm", rf"(?i)^helm/{_V}"),
    ("oras", rf"(?i)^oras(?:-go)?/{_V}"),
    ("az", rf"(?i)\bAZURECLI/{_V}"),
    ("crane", rf"(?i)^crane/{_V}"),
    ("go-containerregistry", rf"(?i)\bgo-containerregistry/{_V}"),
    ("regclient", rf"(?i)^regclient/{_V}"),
    ("azure-sdk", rf"(?i)\bazsdk-[a-z]+-containerregistry/{_V}"),
    ("curl", rf"(?i)^curl/{_V}"),
    ("python-requests", rf"(?i)^python-requests/{_V}"),
    ("go-http-client", rf"(?i)^Go-http-client/{_V}"),
)
#: What podman, skopeo and buildah share when they do not name themselves.
ALIASES = {"containers/image": "containers/image (podman, skopeo or buildah)"}


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(p)) for name, p in RULES)


def parse(user_agent: str | None) -> tuple[str, str | None]:
    """``(client, version)``; ``("other", None)`` when no rule matches, ``("none", None)`` for no UA.

    >>> parse("docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0 os/linux arch/amd64")
    ('docker', '24.0.7')
    >>> parse("containers/5.26.1 (github.com/containers/image)")
    ('containers/image', '5.26.1')
    >>> parse("python/3.11.8 (Linux-6.5.0-x86_64) AZURECLI/2.58.0 (DEB)"), parse(None)
    (('az', '2.58.0'), ('none', None))
    """
    if not user_agent:
        return ("none", None)
    for name, rx in _compiled():
        m = rx.search(user_agent)
        if m:
            return (name, m.group(1))
    return ("other", None)


def label(client: str, version: str | None) -> str:
    """``"docker 24.0.7"``; the long name for ``containers/image``.

    >>> label("containers/image", "5.26.1"), label("other", None)
    ('containers/image (podman, skopeo or buildah) 5.26.1', 'other')
    """
    name = ALIASES.get(client, client)
    return f"{name} {version}" if version else name


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def sql_client(column: str) -> str:
    """A SQL expression naming the client of ``column`` (same rules, same order as ``parse``)."""
    arms = " ".join(f"WHEN regexp_matches({column}, {_lit(p)}) THEN {_lit(n)}" for n, p in RULES)
    return f"CASE WHEN {column} IS NULL OR {column} = '' THEN 'none' {arms} ELSE 'other' END"


def sql_version(column: str) -> str:
    """A SQL expression with the client's version (NULL when unknown)."""
    arms = " ".join(f"WHEN regexp_matches({column}, {_lit(p)}) THEN regexp_extract({column}, {_lit(p)}, 1)"
                    for _, p in RULES)
    return f"CASE WHEN {column} IS NULL THEN NULL {arms} ELSE NULL END"


__all__ = ["ALIASES", "RULES", "label", "parse", "sql_client", "sql_version"]
