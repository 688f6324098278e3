"""The guide regdoctor automates names six symptom messages; `explain` must name its cause and fix for each.

The guide is Microsoft's "Troubleshoot network issues with registry" (MicrosoftDocs/azure-docs
`articles/container-registry/container-registry-troubleshoot-access.md`). Its symptoms, quoted exactly
as it prints them (cut short, without hosts: the way users paste them), and the causes it gives:

- a client firewall or proxy prevents access: allow the registry's REST endpoint
  (`<registry>.azurecr.io`) and data endpoints (`<registry>.<region>.data.azurecr.io`), and configure
  the proxy for both the Docker client and the Docker daemon;
- the registry's public network access rules prevent access (its firewall);
- the virtual network configuration prevents access: DNS must resolve the registry's name to its
  private endpoint address (check with `dig` / `nslookup`, the `privatelink.azurecr.io` zone);
- a VNet in another subscription needs the `Microsoft.ContainerRegistry` resource provider registered
  before firewall and virtual network settings can be saved.

For each message: the first finding is one of the guide's causes for it, and the fix texts of the
findings carry the guide's remedy.
"""

from __future__ import annotations

import pytest

from regdoctor.explain import explain

SEED = [
    # (message, acceptable first codes, codes that must be among the findings, phrases the fixes must carry)
    ("dial tcp: lookup myregistry.azurecr.io",
     {"DNS_NXDOMAIN"}, {"DNS_NXDOMAIN"}, ["privatelink.azurecr.io", "nslookup myregistry.azurecr.io"]),
    ("Client.Timeout exceeded while awaiting headers",
     {"TCP_TIMEOUT"}, {"TCP_TIMEOUT", "PROXY_NO_RESPONSE"},
     [".data.azurecr.io", "proxy", "Docker daemon"]),
    ("Could not connect to the registry login server",
     {"DNS_NXDOMAIN", "TCP_TIMEOUT"}, {"DNS_NXDOMAIN", "TCP_TIMEOUT", "PROXY_REFUSED"},
     ["az acr check-health"]),
    ("Error response from daemon: login attempt failed with status: 403 Forbidden",
     {"HTTP_FIREWALL_DENIED", "PROXY_DENIED"}, {"HTTP_FIREWALL_DENIED", "PROXY_DENIED"},
     ["az acr network-rule add", "configured for the Docker client but not for the daemon"]),
    ("Error response from daemon: Get <registry>: proxyconnect tcp: EOF Login failed",
     {"PROXY_HTTPS_SCHEME_ON_HTTP_PROXY", "PROXY_CLOSED"}, {"PROXY_HTTPS_SCHEME_ON_HTTP_PROXY", "PROXY_CLOSED"},
     ["http://", "The Docker daemon makes this request"]),
    ("Failed to save firewall and virtual network settings for container registry",
     {"ACR_PROVIDER_NOT_REGISTERED"}, {"ACR_PROVIDER_NOT_REGISTERED"},
     ["az provider register --namespace Microsoft.ContainerRegistry"]),
]


@pytest.mark.parametrize(("message", "first", "among", "phrases"), SEED, ids=[s[0][:40] for s in SEED])
def test_the_guides_symptom_names_its_cause_and_fix(message: str, first: set[str], among: set[str],
                                                    phrases: list[str]) -> None:
    ex = explain(message)
    codes = [f.code for f in ex.findings]
    assert codes and codes[0] in first, codes
    assert among <= set(codes), (among - set(codes), codes)
    fixes = " ".join(f.fix for f in ex.findings)
    for phrase in phrases:
        assert phrase in fixes, (phrase, [f.fix for f in ex.findings])
    top = ex.findings[0]
    assert top.root_cause and all(not f.root_cause for f in ex.findings[1:])
    assert all((f.alternative_of or "").split("@")[0] == top.code for f in ex.findings[1:])
    # no host in the message: no `regdoctor check` command that would probe some other registry
    assert top.confirm is None or "<" not in top.confirm.split()[2][:1]
