"""Which proxy each client uses for a host: Go's and Python's environment rules (pure).

``rules`` is the entry point; ``goproxy`` (with ``gourl`` and ``goidna``) ports Go's
``httpproxy``, ``pyproxy`` ports CPython urllib's and requests' rules.
"""

from regdoctor.proxyconf.rules import (
    ProxyChoice,
    ProxyURL,
    ProxyURLError,
    go_proxy_for,
    parse_proxy_option,
    parse_proxy_url,
    python_proxy_for,
)

__all__ = ["ProxyChoice", "ProxyURL", "ProxyURLError", "go_proxy_for", "parse_proxy_option", "parse_proxy_url",
           "python_proxy_for"]
