"""Errors about the image name itself, read from the clients' own grammar: no registry answered wrongly."""

from __future__ import annotations

from regdoctor.explain import explain


def top(text: str) -> tuple[str, str, str | None]:
    f = explain(text).findings[0]
    return f.layer, f.code, f.host


# ---- distribution's error code printed without a message, inside docker's sentence (`docker run`
# ends its message with a period): the code still reads

def test_a_bare_registry_code_with_dockers_closing_period_reads() -> None:
    # ipdk-io/ipdk documentation: the tag `sha-none` was never pushed
    real = ("Unable to find image 'ghcr.io/ipdk-io/ipdk-ubuntu2004-x86_64:sha-none' locally\n"
            "docker: Error response from daemon: manifest unknown.\nSee 'docker run --help'.")
    assert top(real)[:2] == ("registry", "REGISTRY_MANIFEST_UNKNOWN")
    assert top("Error response from daemon: name unknown.")[0] == "registry"


# ---- containers/image pkg/shortnames: a short name nothing completes

def test_podman_short_name_without_search_registries() -> None:
    # a public README (podman-compose) quoting podman's error
    real = ('Error: short-name "mysql:latest" did not resolve to an alias and no unqualified-search registries are '
            'defined in "/etc/containers/registries.conf"')
    layer, code, host = top(real)
    assert (layer, code) == ("registry", "REGISTRY_SHORT_NAME_UNRESOLVED")
    assert host is None  # no registry was contacted: none is named
    variant = 'Error: short-name resolution enforced but cannot prompt without a TTY'
    assert top(variant)[1] == "REGISTRY_SHORT_NAME_UNRESOLVED"
    nested = ('Error: short-name "tiangolo/uvicorn-gunicorn-fastapi:python3.11" did not resolve to an alias and no '
              'unqualified-search registries are defined in "/etc/containers/registries.conf"')
    assert top(nested)[1] == "REGISTRY_SHORT_NAME_UNRESOLVED"


# ---- moby: the image's operating system is not the daemon's

def test_image_os_not_the_daemons() -> None:
    # a public README: Docker Desktop was in Windows-containers mode for a Linux image
    real = 'path\\to\\file\\docker.exe: image operating system "linux" cannot be used on this platform.'
    layer, code, _ = top(real)
    assert (layer, code) == ("registry", "REGISTRY_PLATFORM_MISSING")
    assert "Switch to Linux/Windows containers" in explain(real).findings[0].fix
    variant = 'Error response from daemon: image operating system "windows" cannot be used on this platform'
    assert top(variant)[1] == "REGISTRY_PLATFORM_MISSING"
