"""Ranking: several causes for one text, the context that moves them, the outside-in reading."""

from __future__ import annotations

from regdoctor.explain import explain
from regdoctor.model import findings_sorted


def ranked(text: str) -> list[tuple[str, float]]:
    return [(f.code, f.confidence or 0.0) for f in explain(text).findings]


def codes(text: str) -> list[str]:
    return [c for c, _ in ranked(text)]


def test_eof_has_several_causes_best_first() -> None:
    r = ranked('Get "https://r.lab.test/v2/": EOF')
    assert r[0][0] == "TLS_HANDSHAKE_CLOSED"
    assert {"HTTP_CONNECTION_CLOSED", "PROXY_CLOSED", "DNS_PRIVATELINK_PUBLIC"} <= {c for c, _ in r}
    confidences = [c for _, c in r if _ != "DNS_PRIVATELINK_PUBLIC"]
    assert confidences == sorted(confidences, reverse=True)


def test_plain_http_eof_is_the_server_closing() -> None:
    assert codes('Get "http://r.lab.test:5000/v2/": EOF')[0] == "HTTP_CONNECTION_CLOSED"


def test_a_visible_proxy_moves_eof_towards_the_proxy() -> None:
    plain = dict(ranked('Get "https://r.lab.test/v2/": EOF'))
    proxied = dict(ranked('HTTPS_PROXY=http://10.0.0.1:3128 Get "https://r.lab.test/v2/": EOF'))
    assert proxied["PROXY_CLOSED"] > plain["PROXY_CLOSED"]
    assert codes('HTTPS_PROXY=http://10.0.0.1:3128 Get "https://r.lab.test/v2/": EOF')[0] == "PROXY_CLOSED"


def test_context_deadline_on_acr_points_at_dns_elsewhere_at_tcp() -> None:
    # acr-network-model §5: for an ACR login server Microsoft documents this as slow DNS
    assert codes('Get "https://contoso.azurecr.io/v2/": context deadline exceeded')[0] == "DNS_TIMEOUT"
    assert codes('Get "https://r.lab.test/v2/": context deadline exceeded')[0] == "TCP_TIMEOUT"


def test_inspection_ca_makes_interception_the_root_cause() -> None:
    ex = explain('x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification '
                 'error" while trying to verify candidate authority certificate "Zscaler Root CA")')
    first, rest = ex.findings[0], ex.findings[1:]
    assert first.code == "TLS_INTERCEPTED" and first.root_cause
    unknown = next(f for f in rest if f.code == "TLS_UNKNOWN_CA")
    assert not unknown.root_cause  # the catalogue: TLS_INTERCEPTED explains TLS_UNKNOWN_CA


def test_403_on_acr_is_the_firewall_with_more_confidence() -> None:
    acr = dict(ranked("pinging container registry contoso.azurecr.io: invalid status code from registry 403 "
                      "(Forbidden)"))
    other = dict(ranked("pinging container registry r.lab.test: invalid status code from registry 403 (Forbidden)"))
    assert acr["HTTP_FIREWALL_DENIED"] > other["HTTP_FIREWALL_DENIED"]
    assert "HTTP_MIDDLEBOX_BLOCKED" in other


def test_proxy_hop_turns_network_leaves_into_proxy_findings() -> None:
    pairs = {
        "dial tcp 10.0.0.1:3128: connect: connection refused": "PROXY_REFUSED",
        "dial tcp 10.0.0.1:3128: i/o timeout": "PROXY_TIMEOUT",
        "dial tcp 10.0.0.1:3128: connect: no route to host": "PROXY_UNREACHABLE",
        "dial tcp: lookup proxy.corp on 10.0.0.2:53: no such host": "PROXY_UNRESOLVABLE",
        "tls: first record does not look like a TLS handshake": "PROXY_HTTPS_SCHEME_ON_HTTP_PROXY",
    }
    for leaf, code in pairs.items():
        assert codes(leaf)[0] != code
        assert codes(f'Get "https://r.io/v2/": proxyconnect tcp: {leaf}')[0] == code


def test_data_host_failures_are_data_findings_with_the_mechanism_kept() -> None:
    ex = explain('Get "https://production.cloudflare.docker.com/registry-v2/x/data": read tcp 10.0.0.5:5->1.2.3.4:443: '
                 "read: connection reset by peer")
    assert [f.code for f in ex.findings][:2] == ["DATA_ENDPOINT_BLOCKED", "TCP_RESET"]
    assert ex.findings[0].layer == "data" and ex.findings[0].evidence["blocked_code"] == "TCP_RESET"


def test_redirect_to_an_unknown_host_during_a_blob_download_is_data() -> None:
    ex = explain('failed to copy: httpReadSeeker: failed open: failed to do request: Get '
                 '"https://cdn.example.net/blobs/sha256:01": dial tcp 1.2.3.4:443: i/o timeout', )
    # no registry host in the text: the blob wrapper alone says it was a blob download
    assert ex.findings[0].code == "DATA_ENDPOINT_BLOCKED"


def test_token_host_separate_from_the_registry_is_the_realm() -> None:
    ex = explain('Get "https://r.lab.test/v2/a/manifests/1": Get "https://auth.lab.test/token?scope=x": '
                 "dial tcp 10.0.0.9:443: connect: connection refused")
    assert ex.findings[0].code == "AUTH_REALM_UNREACHABLE" and ex.findings[0].host == "auth.lab.test"
    # ACR's token service is the login server itself: a failure there is the registry's own
    assert codes("rejected token exchange: Post https://contoso.azurecr.io/oauth2/exchange: dial tcp 10.1.0.4:443: "
                 "i/o timeout")[0] == "TCP_TIMEOUT"


def test_proxy_failures_stay_proxy_findings_on_data_hosts() -> None:
    text = ('Get "https://production.cloudflare.docker.com/x/data": proxyconnect tcp: dial tcp 10.0.0.1:3128: '
            "connect: connection refused")
    assert codes(text)[0] == "PROXY_REFUSED"  # the proxy is down for every host, not only this one


def test_not_a_network_fault_is_said_so() -> None:
    f = explain("Error response from daemon: manifest for r.io/a:nope not found: manifest unknown: manifest "
                "unknown").findings[0]
    assert f.code == "REGISTRY_MANIFEST_UNKNOWN" and "not a network fault" in f.title.lower()
    assert f.confirm == "regdoctor check r.io/a:nope"


def test_order_survives_the_renderers_sort() -> None:
    for text in ('Get "https://r.io/v2/": EOF', "Too many requests", "CONNECTIVITY_REFRESH_TOKEN_ERROR",
                 "x509: certificate is valid for a.example, not r.io"):
        found = list(explain(text).findings)
        assert findings_sorted(found) == found


def test_confirm_commands() -> None:
    def confirm(text: str) -> str:
        return explain(text).findings[0].confirm or ""

    assert confirm('Get "https://contoso.azurecr.io/v2/": dial tcp 1.2.3.4:443: i/o timeout') == \
        "regdoctor check -n contoso"
    assert confirm('Get "https://r.lab.test:5446/v2/": x509: certificate signed by unknown authority') == \
        "regdoctor check r.lab.test:5446"
    assert confirm("Could not connect to the registry login server 'contoso.azurecr.io'.") == \
        "regdoctor check -n contoso"
    assert confirm('Get "http://r.lab.test:5000/v2/": EOF') == "regdoctor check r.lab.test:5000 --plain-http"
    # no host in the text: no command (a bare `regdoctor check` would probe some other registry)
    assert confirm("x509: certificate signed by unknown authority") == ""
    assert confirm("error pulling image configuration: download failed after attempts=6: dial tcp 1.2.3.4:443: "
                   "i/o timeout") == ""


def test_multi_symptom_message_keeps_each_group() -> None:
    ex = explain("Get \"https://r.io/v2/\": dial tcp: lookup r.io on 10.0.0.2:53: no such host\n"
                 "toomanyrequests: You have reached your pull rate limit.\n")
    assert {g.code for g in ex.groups} == {"DNS_NXDOMAIN", "HTTP_RATE_LIMITED"}
    top = {f.code for f in ex.findings if "alternative_to" not in f.evidence}
    assert top == {"DNS_NXDOMAIN", "HTTP_RATE_LIMITED"}
