"""Where a client's registry credentials come from: flags, Docker config, helpers, auth.json.

Strategy
--------
regdoctor looks for credentials where the real clients do, in Docker's order of precedence:
``--username``/``--password-stdin``; then the Docker config (``credHelpers[host]``, else
``credsStore``, else ``auths[host]``), running ``docker-credential-<name> get`` exactly as Docker
does; then the containers ``auth.json`` (podman, skopeo, buildah). The secret is held in a field
excluded from ``repr`` and never put into evidence; only the username and the *source* are
reported. Reading files and running helpers is I/O but never network I/O.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_HOSTS = {"registry-1.docker.io", "docker.io", "index.docker.io"}
MAX_CONFIG = 5 * 1024 * 1024


class CredentialError(Exception):
    """A configured credential source failed (e.g. the helper crashed)."""

    def __init__(self, helper: str, reason: str) -> None:
        super().__init__(f"{helper}: {reason}")
        self.helper = helper
        self.reason = reason


@dataclass(frozen=True)
class Credential:
    username: str
    secret: str = field(repr=False)
    source: str = ""

    @property
    def is_identity_token(self) -> bool:
        """Docker stores an OAuth refresh token with the username ``<token>`` (ACR, az acr login)."""
        return self.username == "<token>"


def _keys_for(host: str) -> list[str]:
    if host in _HUB_HOSTS:
        return [DOCKER_HUB_KEY, "docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1"]
    return [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_CONFIG:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def docker_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("DOCKER_CONFIG") or str(Path(env.get("HOME") or Path.home()) / ".docker")
    return Path(base) / "config.json"


def containers_auth_paths(env: Mapping[str, str]) -> list[Path]:
    paths = []
    if env.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    home = Path(env.get("HOME") or Path.home())
    paths.append(home / ".config" / "containers" / "auth.json")
    return paths


def _from_auths(doc: Mapping[str, object], host: str, source: str) -> Credential | None:
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    for key in _keys_for(host):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
            return Credential("<token>", entry["identitytoken"], f"{source} (identitytoken)")
        raw = entry.get("auth")
        if isinstance(raw, str) and raw:
            try:
                user, _, pw = base64.b64decode(raw, validate=False).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            if user:
                return Credential(user, pw, source)
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return Credential(entry["username"], entry["password"], source)
    return None


def run_helper(name: str, host: str, env: Mapping[str, str], timeout: float = 10.0) -> Credential | None:
    """``docker-credential-<name> get`` with the server URL on stdin, as Docker runs it."""
    exe = f"docker-credential-{name}"
    path = shutil.which(exe, path=env.get("PATH"))
    if path is None:
        raise CredentialError(exe, "not found on PATH")
    server = DOCKER_HUB_KEY if host in _HUB_HOSTS else host
    try:
        r = subprocess.run([path, "get"], input=server, capture_output=True, text=True, timeout=timeout,
                           env=dict(env), check=False)
    except subprocess.TimeoutExpired:
        raise CredentialError(exe, f"did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise CredentialError(exe, f"could not run: {exc}") from None
    if r.returncode != 0:
        msg = (r.stdout or r.stderr).strip().splitlines()
        text = msg[0][:200] if msg else f"exit status {r.returncode}"
        if "credentials not found" in text.lower():
            return None
        raise CredentialError(exe, text)
    try:
        doc = json.loads(r.stdout)
        user, secret = str(doc["Username"]), str(doc["Secret"])
    except (ValueError, KeyError, TypeError):
        raise CredentialError(exe, "printed something that is not the credential JSON") from None
    return Credential(user, secret, f"credential helper {exe}")


def find_credential(host: str, env: Mapping[str, str], *, username: str | None = None,
                    password: str | None = None) -> Credential | None:
    """The credential a client would use for ``host``, or None (anonymous).

    >>> find_credential("r.io", {"HOME": "/nonexistent"}, username="u", password="p").source
    '--username/--password-stdin'
    """
    if username is not None and password is not None:
        return Credential(username, password, "--username/--password-stdin")
    cfg_path = docker_config_path(env)
    doc = _read_json(cfg_path)
    if doc is not None:
        helpers = doc.get("credHelpers")
        if isinstance(helpers, dict):
            for key in _keys_for(host):
                if isinstance(helpers.get(key), str):
                    return run_helper(str(helpers[key]), host, env)
        store = doc.get("credsStore")
        if isinstance(store, str) and store:
            found = run_helper(store, host, env)
            if found is not None:
                return found
        found = _from_auths(doc, host, str(cfg_path))
        if found is not None:
            return found
    for p in containers_auth_paths(env):
        adoc = _read_json(p)
        if adoc is not None:
            found = _from_auths(adoc, host, str(p))
            if found is not None:
                return found
    return None


__all__ = ["Credential", "CredentialError", "containers_auth_paths", "docker_config_path", "find_credential",
           "run_helper"]
