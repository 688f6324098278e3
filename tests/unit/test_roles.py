"""The one host-role and wrap table (kb/roles.toml), read by diagnose and explain alike."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest

from regdoctor.kb import CatalogueError, roles
from regdoctor.kb.codes import Code

RAW: dict[str, Any] = tomllib.loads(resources.files("regdoctor.kb").joinpath("roles.toml").read_text())


@pytest.mark.parametrize(("host", "role"), [
    ("myreg.westeurope.data.azurecr.io", "data"),
    ("myregacr.blob.core.windows.net", "data"),
    ("westeurope.data.mcr.microsoft.com", "data"),
    ("production.cloudflare.docker.com", "data"),
    ("docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com", "data"),
    ("prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com", "data"),
    ("pkg-containers.githubusercontent.com", "data"),
    ("auth.docker.io", "realm"),
    ("login.microsoftonline.com", "cloud_api"),
    ("api.ecr.us-east-1.amazonaws.com", "cloud_api"),
    ("myreg.azurecr.io", None),
    ("registry-1.docker.io", None),
    ("notblob.core.windows.net.evil.io", None),
])
def test_roles_of_hosts(host: str, role: str | None) -> None:
    assert roles.table().role_of_host(host) == role


def test_wrap_is_total_over_the_catalogue() -> None:
    """Every code gets a defined answer on every role: a wrap code of the catalogue, or None."""
    for role in ("registry", "realm", "data", "replica", "mirror"):
        for c in Code:
            w = roles.table().wrap(role, c)
            assert w is None or isinstance(w, Code)


@pytest.mark.parametrize(("path", "value", "message"), [
    (["wrap", "data", "default"], "NOPE_NOPE", "not in the catalogue"),
    (["wrap", "host_independent"], ["NOPE_NOPE"], "not in the catalogue"),
    (["roles", "data", "patterns"], ["("], "patterns"),
    (["roles", "data", "suffixes"], "x", "list of strings"),
])
def test_loader_rejects_malformed_tables(path: list[str], value: Any, message: str) -> None:
    raw = copy.deepcopy(RAW)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(CatalogueError, match=message):
        roles.build(raw)
