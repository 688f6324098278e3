"""The ACR network model, offline and pure: parsing, access what-if, lint, allowlist, private DNS.

Modules (``reference/acr-network-model.md`` is the model they follow; ``docs`` names the
Microsoft page of every rule):

* ``model``     — the normalised, frozen ``RegistryConfig`` and the values in force;
* ``fields``, ``parse``, ``lists``, ``inputs`` — decoded JSON (CLI and REST shapes, replications,
  private endpoint connections, private DNS records, private endpoints and their NICs) →
  ``RegistryConfig``, a schema per input; reading files and stdin is the CLI's job;
* ``regions``, ``addresses``, ``services`` — region names, IP rule ranges and client addresses,
  the trusted-services table;
* ``access``    — who gets in, at which endpoint, by which rule;
* ``lint``      — the pitfalls the JSON shows, as catalogue findings;
* ``allowlist`` — the client firewall rules (rendered by ``regdoctor.render.acr``);
* ``dns``       — what every name must resolve to through a private endpoint, judged against
  the answers the CLI got from ``regdoctor.net.dns``;
* ``firewall``  — a live 403 of ``check`` explained by the configuration (``--acr-config``).

Every conclusion carries a ``basis``: ``documented`` or ``inferred``, and a ``source``.

>>> from regdoctor.acr import parse_registry, decide, Client
>>> cfg = parse_registry({"loginServer": "myreg.azurecr.io", "publicNetworkAccess": "Disabled"})
>>> decide(cfg, Client.from_ip("198.51.100.7"))[0].rule
'publicNetworkAccess=Disabled'
"""

from __future__ import annotations

from regdoctor.acr.access import Client, Decision, decide, judge
from regdoctor.acr.inputs import Document, Inputs, build, split_combined
from regdoctor.acr.lint import lint
from regdoctor.acr.model import RegistryConfig
from regdoctor.acr.parse import parse_registry

__all__ = ["Client", "Decision", "Document", "Inputs", "RegistryConfig", "build", "decide", "judge", "lint",
           "parse_registry", "split_combined"]
