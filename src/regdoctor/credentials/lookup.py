"""Which credential a client would use for a registry: docker's order, then containers'.

Strategy
--------
docker/cli (``ConfigFile.GetAuthConfig`` → ``GetCredentialsStore``), for the key
``getAuthConfigKey(domain)``:

1. ``DOCKER_AUTH_CONFIG`` (a memory store over the rest), exact key only;
2. ``credHelpers[key]`` (exact key), else ``credsStore`` (else the platform default store when
   the file has no auth at all): the helper's answer is final — "not found" means anonymous,
   the file's ``auths`` are not consulted;
3. the file store: ``auths[key]``, else the first key whose ``ConvertToHostname`` is ``key``.

containers/image (``getCredentialsWithHomeDir``), for ``registry[/namespace/repo]``: each
helper of registries.conf ``credential-helpers`` (default: the auth files); per auth file,
``credHelpers[registry]``, then ``auths`` keys most specific first, then normalized keys; a
file that cannot be parsed is an error of that lookup.

Go iterates maps in random order; where a rule walks ``auths`` regdoctor takes file order, so
the answer is deterministic. The secret never leaves :class:`Credential` (excluded from
``repr``); only the username and the *source* are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from regdoctor.credentials.files import AuthEntry, AuthFile, ClientConfig
from regdoctor.credentials.helper import CredentialError, HelperAnswer, run_helper
from regdoctor.credentials.keys import (
    auth_key_lookup_order,
    convert_to_hostname,
    docker_auth_config_key,
    normalize_auth_file_key,
    normalize_registry,
    validate_key,
)

TOKEN_USERNAME = "<token>"  # noqa: S105 - the marker docker stores, not a password
#: ``(helper name, server URL) -> answer``; the I/O behind a credential helper, swappable in tests
HelperRunner = Callable[[str, str], HelperAnswer | None]
Client = Literal["docker", "containers", "any"]


@dataclass(frozen=True)
class Credential:
    username: str
    secret: str = field(repr=False)
    source: str = ""

    @property
    def is_identity_token(self) -> bool:
        """Docker stores an OAuth refresh token with the username ``<token>`` (ACR, az acr login)."""
        return self.username == TOKEN_USERNAME


def _from_entry(entry: AuthEntry, source: str) -> Credential | None:
    if entry.bad or entry.empty:
        return None
    if entry.identity_token:
        return Credential(TOKEN_USERNAME, entry.identity_token, f"{source} (identitytoken)")
    return Credential(entry.username, entry.password, source)


def _from_helper(answer: HelperAnswer | None, helper: str, where: str) -> Credential | None:
    if answer is None or not (answer.username or answer.secret):
        return None
    return Credential(answer.username, answer.secret, f"credential helper docker-credential-{helper} ({where})")


def docker_file_entry(f: AuthFile, key: str) -> AuthEntry | None:
    """docker/cli ``fileStore.Get``: the exact key, else the first legacy key naming the host.

    >>> f = AuthFile("c.json", "docker", auths=(AuthEntry("https://r.io/v1/", "u", "p"),))
    >>> docker_file_entry(f, "r.io").key
    'https://r.io/v1/'
    """
    if f.problem is not None:
        return None
    exact = f.auth(key)
    if exact is not None:
        return exact
    return next((a for a in f.auths if convert_to_hostname(a.key) == key), None)


def docker_helper_for(cfg: ClientConfig, key: str) -> str:
    """docker/cli ``getConfiguredCredentialStore``: ``credHelpers[key]``, else ``credsStore``."""
    f = cfg.docker
    if f.problem is None:
        helper = f.helper(key) if key else None
        if helper is not None:
            return helper
        if f.creds_store:
            return f.creds_store
    return cfg.docker_default_store


def docker_lookup(cfg: ClientConfig, domain: str, runner: HelperRunner) -> Credential | None:
    """The credential ``docker pull domain/…`` sends (docker/cli ``GetAuthConfig``)."""
    key = docker_auth_config_key(domain)
    env = cfg.docker_env
    if env is not None and env.problem is None:
        entry = env.auth(key)
        if entry is not None:
            return _from_entry(entry, "DOCKER_AUTH_CONFIG")
    helper = docker_helper_for(cfg, key)
    if helper:
        where = (f"credHelpers in {cfg.docker.path}" if cfg.docker.helper(key) is not None
                 else f"credsStore in {cfg.docker.path}" if cfg.docker.creds_store else "docker's default store")
        return _from_helper(runner(helper, key), helper, where)
    entry = docker_file_entry(cfg.docker, key)
    return _from_entry(entry, f"{cfg.docker.path} (auths[{entry.key!r}])") if entry else None


class ContainersLookupError(Exception):
    """containers/image gives up: an auth file it cannot parse, or a key it rejects."""


def containers_file_lookup(f: AuthFile, key: str, registry: str, runner: HelperRunner) -> Credential | None:
    """containers/image ``findCredentialsInFile``; ContainersLookupError for a broken file."""
    if f.problem is not None:
        raise ContainersLookupError(f"reading JSON file {f.path!r}: {f.problem.detail}")
    helper = f.helper(registry)
    if helper is not None:
        return _from_helper(runner(helper, registry), helper, f"credHelpers in {f.path}")
    for k in auth_key_lookup_order(key, registry, f.legacy):
        entry = f.auth(k)
        if entry is not None:
            return _checked(entry, f)
    wanted = normalize_registry(registry)
    for entry in f.auths:
        if normalize_auth_file_key(entry.key, f.legacy) == wanted:
            return _checked(entry, f)
    return None


def _checked(entry: AuthEntry, f: AuthFile) -> Credential | None:
    if entry.bad:
        raise ContainersLookupError(f"{f.path}: {entry.bad}")
    return _from_entry(entry, f"{f.path} (auths[{entry.key!r}])")


def containers_lookup(cfg: ClientConfig, key: str, runner: HelperRunner) -> Credential | None:
    """The credential podman, skopeo and buildah use for ``key`` (``registry[/ns/repo]``)."""
    validate_key(key)
    registry = key.partition("/")[0]
    errors: list[str] = []
    for helper in cfg.containers_helpers:
        try:
            if helper == "containers-auth.json":
                for f in cfg.containers:
                    found = containers_file_lookup(f, key, registry, runner)
                    if found is not None:
                        return found
            else:
                found = _from_helper(runner(helper, registry), helper, "registries.conf credential-helpers")
                if found is not None:
                    return found
        except (ContainersLookupError, CredentialError) as exc:
            errors.append(str(exc))
    if errors:
        raise ContainersLookupError("errors looking up credentials: " + "; ".join(errors))
    return None


def find_credential(domain: str, cfg: ClientConfig, env: Mapping[str, str], *, repository: str | None = None,
                    username: str | None = None, password: str | None = None, client: Client = "any",
                    helper_timeout: float = 10.0, runner: HelperRunner | None = None) -> Credential | None:
    """The credential a client would use for ``domain`` (``host[:port]`` as in the reference,
    ``docker.io`` for Docker Hub), or None (anonymous).

    ``client="any"``: docker's answer, else the containers tools' (a broken file there is a
    config finding of its own, not an error of this lookup). A failing helper raises
    :class:`CredentialError`.

    >>> from regdoctor.credentials.files import load_client_config
    >>> cfg = load_client_config({"HOME": "/nonexistent"}, which=lambda name: None)
    >>> find_credential("r.io", cfg, {}, username="u", password="p").source
    '--username/--password-stdin'
    """
    if username is not None and password is not None:
        return Credential(username, password, "--username/--password-stdin")
    run = runner or (lambda helper, server: run_helper(helper, server, env, helper_timeout))
    if client in ("docker", "any"):
        found = docker_lookup(cfg, domain, run)
        if found is not None or client == "docker":
            return found
    key = f"{domain}/{repository}" if repository else domain
    try:
        return containers_lookup(cfg, key, run)
    except ValueError:  # validate_key: not a key containers/image would look up
        return None
    except ContainersLookupError as exc:
        if client == "containers":
            raise CredentialError("containers auth files", str(exc)) from None
        return None


def registries_in_config(cfg: ClientConfig) -> list[str]:
    """The registries a user's Docker config names (``auths``, ``credHelpers``,
    ``DOCKER_AUTH_CONFIG``), as host[:port] in file order; Docker Hub's key as ``docker.io``.

    >>> f = AuthFile("c", "docker", auths=(AuthEntry("https://index.docker.io/v1/"), AuthEntry("http://r.io:5000/")))
    >>> registries_in_config(ClientConfig(docker=f))
    ['docker.io', 'r.io:5000']
    """
    keys: list[str] = []
    for f in (cfg.docker, cfg.docker_env):
        if f is None or f.problem is not None:
            continue
        keys += [a.key for a in f.auths] + [k for k, _ in f.cred_helpers]
    out: list[str] = []
    for key in keys:
        host = convert_to_hostname(key)
        if host in ("index.docker.io", "registry-1.docker.io"):
            host = "docker.io"
        if _names_a_host(host) and host not in out:
            out.append(host)
    return out


def _names_a_host(hostport: str) -> bool:
    """``host[:port]`` with a non-empty host and a numeric port (``unix:`` names nothing)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[1:end], hostport[end + 1:] if end > 0 else ""
        if end < 0:
            return False
        port = rest[1:] if rest.startswith(":") else None if not rest else ""
    else:
        host, sep, port_text = hostport.partition(":")
        port = port_text if sep else None
    return bool(host) and (port is None or (port.isascii() and port.isdigit()))


__all__ = [
    "Client", "ContainersLookupError", "Credential", "HelperRunner", "containers_file_lookup", "containers_lookup",
    "docker_file_entry", "docker_helper_for", "docker_lookup", "find_credential", "registries_in_config",
]
