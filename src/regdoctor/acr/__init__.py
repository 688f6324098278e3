"""The ACR network model, offline: config parsing, access what-if, lint, allowlist, private DNS.

Modules (``reference/acr-network-model.md`` is the model they follow):

* ``config``    — registry JSON (CLI and REST shapes, replications, private endpoint
  connections, private DNS records) → frozen ``RegistryConfig``; the only module here that
  reads files;
* ``access``    — who gets in, at which endpoint, by which rule (pure);
* ``lint``      — the pitfalls the JSON shows, as catalogue findings (pure);
* ``allowlist`` — the client firewall rules, and their text/JSON/Squid/Azure Firewall forms (pure);
* ``dns``       — what every name must resolve to through a private endpoint (pure) and what it
  resolves to from here (through ``regdoctor.net.dns``).

Every conclusion carries a ``basis``: ``documented`` or ``inferred``.

>>> from regdoctor.acr import parse_registry, decide, Client
>>> cfg = parse_registry({"loginServer": "myreg.azurecr.io", "publicNetworkAccess": "Disabled"})
>>> decide(cfg, Client.from_ip("198.51.100.7"))[0].rule
'publicNetworkAccess=Disabled'
"""

from __future__ import annotations

from regdoctor.acr.access import Client, Decision, decide, judge
from regdoctor.acr.config import RegistryConfig, build, load, parse_registry
from regdoctor.acr.lint import lint

__all__ = ["Client", "Decision", "RegistryConfig", "build", "decide", "judge", "lint", "load", "parse_registry"]
