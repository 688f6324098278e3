"""Registry credentials exactly where the clients find them.

Layout: :mod:`.keys` (how a registry becomes a storage key, docker's and containers' rules),
:mod:`.files` (the one reader of ``config.json``, ``DOCKER_AUTH_CONFIG`` and ``auth.json``, and
their Go-faithful parsers), :mod:`.helper` (the credential-helper protocol, with a deadline),
:mod:`.lookup` (docker's and containers' precedence), :mod:`.problems` (broken files as
findings).
"""

from __future__ import annotations

from regdoctor.credentials.files import (
    AuthEntry,
    AuthFile,
    ClientConfig,
    ConfigProblem,
    containers_auth_paths,
    docker_config_dir,
    load_client_config,
    parse_auth_file,
    parse_docker_env_config,
)
from regdoctor.credentials.helper import CredentialError, run_helper
from regdoctor.credentials.keys import DOCKER_HUB_KEY, convert_to_hostname
from regdoctor.credentials.lookup import Credential, find_credential, registries_in_config
from regdoctor.credentials.problems import config_findings

__all__ = [
    "DOCKER_HUB_KEY", "AuthEntry", "AuthFile", "ClientConfig", "ConfigProblem", "Credential", "CredentialError",
    "config_findings", "containers_auth_paths", "convert_to_hostname", "docker_config_dir", "find_credential",
    "load_client_config", "parse_auth_file", "parse_docker_env_config", "registries_in_config", "run_helper",
]
