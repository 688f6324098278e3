"""Test helpers for the ACR model: raw JSON values in, ``RegistryConfig`` out, as the CLI would build it."""

from __future__ import annotations

from typing import Any

from regdoctor.acr import inputs as _inputs
from regdoctor.acr.fields import At
from regdoctor.acr.inputs import Document, build
from regdoctor.acr.model import IpRule, RegistryConfig, VnetRule, storage_wildcard
from regdoctor.acr.parse import parse_registry
from regdoctor.cli._acr_io import load

_LISTS = ("replications", "connections", "zone_records", "private_endpoints")


def Inputs(registry: Any = None, **parts: Any) -> _inputs.Inputs:
    """``acr.inputs.Inputs`` from raw values, each named after its key (``replications`` …)."""
    docs = {k: (Document(v, At(k)),) for k, v in parts.items() if k in _LISTS and v is not None}
    reg = Document(registry, At("CONFIG")) if registry is not None else None
    return _inputs.Inputs(registry=reg, **docs)


__all__ = ["Inputs", "IpRule", "RegistryConfig", "VnetRule", "build", "load", "parse_registry", "storage_wildcard"]
