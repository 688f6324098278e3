"""Kubernetes manifests as YAML (PyYAML, imported only here) and NPD's config as JSON.

YAML is written with ``yaml.safe_dump``: block style, keys in the builders' order, strings that
YAML 1.1 would read as something else ("true", "9737", "10%") quoted by the dumper itself. A
comment block heads the stream, since PyYAML cannot attach comments to nodes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def manifests_yaml(docs: Sequence[dict[str, Any]], comments: Sequence[str] = ()) -> str:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        # a dict used twice (labels of the DaemonSet and of its pods) is written twice, not as &id001/*id001
        def ignore_aliases(self, data: Any) -> bool:
            return True

    head = "".join(f"# {line}".rstrip() + "\n" for line in comments)
    body = yaml.dump_all(list(docs), Dumper=_NoAliases, sort_keys=False, default_flow_style=False,
                         explicit_start=True, width=120, allow_unicode=True)
    return head + body


def npd_json(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2) + "\n"
