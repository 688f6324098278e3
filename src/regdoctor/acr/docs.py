"""Where each rule of the ACR model comes from: one key per Microsoft page, one URL per key.

Every ``Verdict`` of ``access``, every lint finding and every allow-list rule names one of these
keys as its ``source``; ``--json`` prints the URL, so a reader can check the sentence the
decision follows. The pages are the ones of ``MicrosoftDocs/azure-management-docs``
(``articles/container-registry/``), whose URLs are the file names without ``.md``; several were
renamed in 2025-2026 (``container-registry-private-link`` → ``container-registry-private-endpoints``,
``container-registry-firewall-access-rules`` → ``container-registry-firewall-rules``), and these
are the current names. ``spec`` is the REST API specification (enums, defaults, field shapes);
``reported`` marks a behaviour only public issue threads show.

>>> url("selected-networks")
'https://learn.microsoft.com/azure/container-registry/container-registry-access-selected-networks'
"""

from __future__ import annotations

_LEARN = "https://learn.microsoft.com/azure/container-registry/"

#: key -> page. The one-line summaries say what the model takes from the page.
PAGES: dict[str, tuple[str, str]] = {
    "selected-networks": (_LEARN + "container-registry-access-selected-networks",
                          "IP rules (Premium, at most 200, not applied to private endpoints); disabling the "
                          "public endpoint overrides all firewall configurations"),
    "firewall": (_LEARN + "container-registry-firewall-rules",
                 "client firewall: login server, azurecr.io for certificates, data endpoints or storage, "
                 "regional endpoints, all on 443; service tags"),
    "private-endpoints": (_LEARN + "container-registry-private-endpoints",
                          "private endpoints (Premium, at most 200), their DNS records and IP consumption; "
                          "public access disabled breaks az acr build"),
    "vnet": (_LEARN + "container-registry-vnet",
             "service endpoints (preview, Premium, at most 100 rules, VMs and AKS only, not in US Government "
             "or 21Vianet; not together with Private Link from one virtual network)"),
    "trusted": (_LEARN + "allow-access-trusted-services",
                "trusted services and their managed-identity conditions; no effect with a service endpoint"),
    "tasks-bypass": (_LEARN + "manage-network-bypass-policy-for-tasks",
                     "networkRuleBypassAllowedForTasks: Tasks with a system-assigned identity, off by default "
                     "since 2025-06-01"),
    "data-endpoints": (_LEARN + "container-registry-dedicated-data-endpoints",
                       "dedicated data endpoints (Premium), one per replica region, 307 redirect; switched on "
                       "by the first private endpoint"),
    "endpoints": (_LEARN + "container-registry-endpoint-reference",
                  "endpoint types; --global-endpoint-routing excludes a replica from global routing only"),
    "geo": (_LEARN + "container-registry-geo-replication",
            "replicas; regional endpoints (Premium, registry-wide); same-region redirects"),
    "ipv6": (_LEARN + "container-registry-ipv6-dual-stack",
             "endpointProtocol IPv4 (default) or IPv4AndIPv6: public endpoints only, needs data endpoints, "
             "no Tasks"),
    "anonymous": (_LEARN + "anonymous-pull-access",
                  "anonymousPullEnabled: Standard and Premium, pull without credentials"),
    "skus": (_LEARN + "container-registry-skus",
             "Basic/Standard/Premium; below Premium, Premium features are disabled"),
    "troubleshoot": (_LEARN + "container-registry-troubleshoot-access",
                     "the network troubleshooting guide"),
    "client-ip": ("https://learn.microsoft.com/troubleshoot/azure/azure-container-registry/"
                  "client-ip-address-not-allowed-access",
                  "the 403 DENIED `client with IP` refusal"),
    "spec": ("https://github.com/Azure/azure-rest-api-specs/blob/main/specification/containerregistry/"
             "resource-manager/Microsoft.ContainerRegistry/stable/2023-07-01/containerregistry.json",
             "field shapes, enums and defaults (IPRule.action is only Allow; value is IPv4)"),
    "reported": ("https://github.com/Azure-Samples/dotNET-Frontend-AB-Testing-on-Azure-Container-Apps/issues/5",
                 "DisablingPublicNetworkAccessNotSupported: disabling public access is refused below Premium"),
}


def url(key: str) -> str:
    """The URL of a source key; ``KeyError`` for an unknown key (a typo in the model is a bug)."""
    return PAGES[key][0]


__all__ = ["PAGES", "url"]
