"""Entity extraction, client fingerprints and redaction."""

from __future__ import annotations

import pytest

from regdoctor.explain import explain, match_line, redact


def top(text: str) -> dict[str, object]:
    ex = explain(text)
    assert ex.findings, text
    return dict(ex.findings[0].evidence)


def test_hosts_resolver_and_image() -> None:
    e = top('time="x" level=fatal msg="Error parsing image name \\"docker://nx.lab.test:5443/lab/hello:v1\\": '
            'pinging container registry nx.lab.test:5443: Get \\"https://nx.lab.test:5443/v2/\\": '
            'dial tcp: lookup nx.lab.test on 127.0.0.53:53: no such host"')
    assert e["host"] == "nx.lab.test" and e["resolver"] == "127.0.0.53"
    assert e["registry_host"] == "nx.lab.test" and e["registry_port"] == 5443
    assert e["repository"] == "lab/hello" and e["reference"] == "v1"
    assert e["client"] == "podman, skopeo or buildah (containers/image)"
    assert "containers/image ≥ 5.14" in e["client_version"]  # type: ignore[operator]


def test_ipv6_resolver_and_address() -> None:
    e = top("dial tcp: lookup r.io on [::1]:53: read udp [::1]:41234->[::1]:53: read: connection refused")
    assert e["resolver"] == "::1"
    e = top("dial tcp [2600:1f18::1]:443: connect: network is unreachable")
    assert e["address"] == "2600:1f18::1" and e["port"] == 443 and e["errno_text"] == "network is unreachable"


def test_proxy_address_is_not_taken_for_the_registry() -> None:
    e = top('Get "https://r.lab.test/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: connection refused')
    assert e["proxy_address"] == "10.1.2.3:3128"
    assert "address" not in e and e["registry_host"] == "r.lab.test" and e["via_proxy"] is True


def test_proxy_host_of_an_unresolvable_proxy() -> None:
    ex = explain("proxyconnect tcp: dial tcp: lookup proxy.corp on 10.0.0.2:53: no such host")
    f = ex.findings[0]
    assert f.code == "PROXY_UNRESOLVABLE" and f.evidence["proxy_host"] == "proxy.corp"
    assert "proxy.corp" in f.cause


def test_status_client_ip_and_acr_registry() -> None:
    e = top("Head \"https://contoso.azurecr.io/v2/app/manifests/1\": denied: client with IP '203.0.113.7' is not "
            "allowed access. Refer https://aka.ms/acr/firewall to grant access.")
    assert e["client_ip"] == "203.0.113.7" and e["registry"] == "contoso"
    e = top("pinging container registry r.lab.test:5450: invalid status code from registry 403 (Forbidden)")
    assert e["status"] == "403" and e["status_text"] == "Forbidden"


def test_acr_data_endpoint_gives_registry_and_region() -> None:
    ex = explain('Get "https://contoso.westeurope.data.azurecr.io/contoso/blobs/sha256:01": dial tcp 20.1.2.3:443: '
                 "i/o timeout")
    f = ex.findings[0]
    assert f.code == "DATA_ENDPOINT_BLOCKED" and f.host == "contoso.westeurope.data.azurecr.io"
    assert f.evidence["registry"] == "contoso" and f.evidence["region"] == "westeurope"
    assert f.evidence["blocked_code"] == "TCP_TIMEOUT" and f.evidence["blocked_layer"] == "tcp"
    assert "--region westeurope" in (f.confirm or "")


def test_python_wrapper_host_and_versions() -> None:
    e = top("HTTPSConnectionPool(host='contoso.azurecr.io', port=443): Max retries exceeded with url: /v2/ "
            "(Caused by NameResolutionError(\"HTTPSConnection(host='contoso.azurecr.io', port=443): Failed to "
            "resolve 'contoso.azurecr.io' ([Errno -2] Name or service not known)\"))")
    assert e["host"] == "contoso.azurecr.io" and e["registry"] == "contoso"
    assert "urllib3 ≥ 2.6" in e["client_version"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ('Get "https://r.io/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority',
         "Go ≥ 1.20"),
        ('Get "https://r.io/v2/": x509: certificate signed by unknown authority', "Go 1.14–1.19"),
        ("Get https://r.io/v2/: dial tcp 1.2.3.4:443: i/o timeout", "Go ≤ 1.13"),
        ("proxyconnect tcp: tls: oversized record received with length 20527", "Go ≤ 1.11"),
        ("unexpected status from GET request to https://r.io/v2/: 429 Too Many Requests", "containerd ≥ 2.1"),
    ],
)
def test_version_fingerprints(text: str, version: str) -> None:
    assert version in top(text)["client_version"]  # type: ignore[operator]


def test_kubelet_is_named_before_containerd() -> None:
    e = top('Failed to pull image "r.io/a:1": rpc error: code = Unknown desc = failed to pull and unpack image '
            '"r.io/a:1": failed to resolve reference "r.io/a:1": failed to do request: Head '
            '"https://r.io/v2/a/manifests/1": dial tcp 1.2.3.4:443: i/o timeout')
    assert e["client"] == "kubelet (containerd CRI)"
    assert e["repository"] == "a" and e["registry_host"] == "r.io"


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("proxyconnect tcp: dial tcp: lookup user:hunter2@proxy", "hunter2"),
        ('Get "https://r.io/v2/": proxyconnect tcp: http://bob:hunter2@10.0.0.1:3128 refused', "hunter2"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "eyJhbGci"),
        ("Authorization: Basic Ym9iOmh1bnRlcjI=", "Ym9iOmh1bnRlcjI"),
        ('Get "https://acct.blob.core.windows.net/c/b?se=2024&sig=S3CR3Tsig%3D&sp=r": EOF', "S3CR3Tsig"),
        ('{"auths":{"r.io":{"auth":"Ym9iOmh1bnRlcjI="}}}', "Ym9iOmh1bnRlcjI"),
        ("docker login -u bob -p hunter2 r.io", "hunter2"),
        ("https_proxy=http://bob:hunter2@proxy:3128", "hunter2"),
    ],
)
def test_redaction(raw: str, secret: str) -> None:
    assert secret not in redact(raw)


def test_secrets_never_reach_findings() -> None:
    text = ('HTTPS_PROXY=http://bob:hunter2@10.0.0.1:3128 Get "https://r.lab.test/v2/": proxyconnect tcp: '
            "dial tcp 10.0.0.1:3128: connect: connection refused")
    ex = explain(text)
    f = ex.findings[0]
    assert f.code == "PROXY_REFUSED"
    blob = repr((f.cause, f.fix, f.evidence, f.matched, f.confirm, ex.groups, ex.entities))
    assert "hunter2" not in blob
    assert f.confirm == "regdoctor check r.lab.test --proxy http://bob:PASSWORD@10.0.0.1:3128"


def test_match_line_is_pure_and_returns_none_for_noise() -> None:
    assert match_line("GET /healthz 200 in 3 ms") is None


def test_version_hints_never_contradict_themselves() -> None:
    # a log of two machines: one Go ≥ 1.14 client (quoted URL), one Go ≤ 1.13 (unquoted URL)
    ex = explain('Get "https://r.io/v2/": dial tcp 1.2.3.4:443: i/o timeout\n'
                 "Get https://q.io/v2/: dial tcp 1.2.3.5:443: i/o timeout\n")
    hints = ex.entities.get("client_versions", [])
    assert not any(h.startswith("Go") for h in hints), hints
    assert not any("conflict" in str(f.evidence.get("client_version")) for f in ex.findings)
    # one line alone keeps its own hint
    assert "Go ≥ 1.14" in explain('Get "https://r.io/v2/": EOF').findings[0].evidence["client_version"]
