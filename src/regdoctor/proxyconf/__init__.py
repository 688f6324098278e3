"""Which proxy each actor uses for a host: Go's and Python's environment rules (pure)."""

from regdoctor.proxyconf.rules import ProxyChoice, ProxyURL, go_proxy_for, parse_proxy_url, python_proxy_for

__all__ = ["ProxyChoice", "ProxyURL", "go_proxy_for", "parse_proxy_url", "python_proxy_for"]
