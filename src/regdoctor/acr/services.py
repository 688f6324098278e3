"""Azure services as clients of a registry: which are trusted, and on which identity condition.

The trusted-services table of [trusted] ("Allow trusted services to securely access a
network-restricted container registry"), with its third column — "Configure managed identity
with RBAC role" — as ``identities``: the identities with which the service's bypass works
(``None``: no managed identity needed). "Except where noted that a user-assigned managed identity
is supported, only a system-assigned identity can be used." Services known *not* to be trusted
are listed too, with the documented reason, so that ``acr access --service`` can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Identity = Literal["system", "user", "none"]
IDENTITIES: tuple[Identity, ...] = ("system", "user", "none")


@dataclass(frozen=True)
class Service:
    """An Azure service as a client of the registry."""

    key: str
    title: str
    #: On the documented trusted-services list.
    trusted: bool
    #: Identities with which the bypass works; ``None``: no managed identity needed.
    identities: frozenset[Identity] | None = None
    #: Why it is not trusted, when it is not (documented unless it says "likely").
    note: str = ""

    def condition(self) -> str:
        """The identity condition, as a phrase ("" when there is none)."""
        if self.identities is None:
            return ""
        kinds = " or ".join(f"{k}-assigned" for k in sorted(self.identities, key=IDENTITIES.index))
        return f"it authenticates with a {kinds} managed identity holding an RBAC role on the registry"


SERVICES: dict[str, Service] = {s.key: s for s in (
    Service("aci", "Azure Container Instances", True, frozenset({"system", "user"})),
    Service("defender", "Microsoft Defender for Cloud (image vulnerability scanning)", True),
    Service("aml", "Azure Machine Learning", True, frozenset({"system"})),
    Service("acr-import", "Azure Container Registry (import from another registry)", True),
    Service("tasks", "ACR Tasks", False,
            note="ACR Tasks have transitioned from the trusted-services list; networkRuleBypassAllowedForTasks "
                 "decides instead"),
    Service("app-service", "Azure App Service", False,
            note="the allow trusted services setting doesn't apply to App Service"),
    Service("aks", "Azure Kubernetes Service", False,
            note="AKS is not on the trusted-services list; its nodes are judged by their egress address or subnet "
                 "(use --from or --subnet)"),
    Service("devops", "Microsoft-hosted Azure DevOps agents", False,
            note="hosted agents are not trusted, egress from changing addresses and cannot use private endpoints; "
                 "use self-hosted agents"),
)}

SERVICE_ALIASES: dict[str, str] = {
    "container-instances": "aci", "azure-container-instances": "aci",
    "defender-for-cloud": "defender", "microsoft-defender": "defender", "mdc": "defender",
    "machine-learning": "aml", "azureml": "aml", "azure-machine-learning": "aml",
    "acr": "acr-import", "import": "acr-import",
    "acr-tasks": "tasks", "task": "tasks", "acr-build": "tasks",
    "appservice": "app-service", "webapp": "app-service", "web-app": "app-service", "functions": "app-service",
    "kubernetes": "aks",
    "azure-devops": "devops", "ado": "devops", "pipelines": "devops",
}


def service(name: str) -> Service | None:
    """Look up a service by key or alias, case-insensitively.

    >>> service("ACI").title, service("webapp").trusted, service("nope")
    ('Azure Container Instances', False, None)
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    return SERVICES.get(SERVICE_ALIASES.get(key, key))


__all__ = ["IDENTITIES", "SERVICES", "SERVICE_ALIASES", "Identity", "Service", "service"]
