"""explain's reading of a paste as a whole: what other lines of it say about the failing one."""

from __future__ import annotations

import pytest

from regdoctor.explain import explain


@pytest.mark.parametrize("setting", [
    "$ export HTTPS_PROXY=http://proxy.corp:3128",
    "https_proxy='http://proxy.corp:3128'",
    " HTTPS Proxy: http://proxy.corp:8080",
    '{"proxies": {"default": {"httpsProxy": "http://proxy.corp:3128"}}}',
])
@pytest.mark.parametrize("leaf", [
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp 54.1.2.3:443: i/o timeout',
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io '
    'on 10.0.0.2:53: no such host',
])
def test_a_proxy_setting_in_the_paste_and_a_direct_dial_mean_the_puller_had_no_proxy(setting: str, leaf: str) -> None:
    # the seed article's case: the proxy is set where the user looked, the failing process went direct
    assert explain(f"{setting}\n$ docker pull nginx\n{leaf}").findings[0].code == "PROXY_NOT_CONFIGURED"
    assert explain(leaf).findings[0].code != "PROXY_NOT_CONFIGURED"  # without it, the network's fault first


def test_a_proxy_setting_does_not_override_a_failure_through_the_proxy() -> None:
    text = ("HTTPS_PROXY=http://proxy.corp:3128\n"
            'Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.9:3128: i/o timeout')
    assert explain(text).findings[0].code == "PROXY_TIMEOUT"
