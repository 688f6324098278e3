"""Pure: credential files that a client cannot use, as ``AUTH_CONFIG_UNREADABLE`` findings.

A broken file is a fact about this machine, not about one registry, so its finding has no
host and is reported once, whatever the network did.
"""

from __future__ import annotations

from collections.abc import Sequence

from regdoctor import kb
from regdoctor.credentials.files import ConfigProblem
from regdoctor.kb.codes import Code
from regdoctor.model import Finding

_READER_NAMES = {"docker": "docker", "containers": "podman/skopeo/buildah"}


def config_findings(problems: Sequence[ConfigProblem]) -> list[Finding]:
    """One finding per unusable file; the evidence names the file and the fault, never a secret.

    >>> p = ConfigProblem("/h/.docker/config.json", "not_json", "not JSON: Expecting value (character 0)",
    ...                   ("docker",), "docker warns")
    >>> config_findings([p])[0].code
    'AUTH_CONFIG_UNREADABLE'
    """
    info = kb.code(Code.AUTH_CONFIG_UNREADABLE)
    return [info.finding(host=None, root_cause=True, evidence={
        "config_path": p.path, "problem": p.kind, "detail": p.detail,
        "readers": ", ".join(_READER_NAMES[r] for r in p.readers), "client_effect": p.effect,
    }) for p in problems]


__all__ = ["config_findings"]
