"""``check --node NAME --label KEY=VALUE``: which machine a report is from, validated at the edge.

Names follow Kubernetes: a node name is a DNS-1123 subdomain (≤ 253 characters), a label key an
optional DNS prefix plus a name of ≤ 63 characters, a label value ≤ 63 characters of
``[A-Za-z0-9._-]``. An empty value is dropped rather than refused: the DaemonSet fills ``zone``
from the Downward API, which gives an empty string where the cluster does not copy the node's
topology labels onto the pod.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from regdoctor.errors import BadInput
from regdoctor.model import NodeInfo

_NODE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
_KEY_PREFIX = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")
MAX_LABELS = 16


def valid_node_name(name: str) -> bool:
    """Whether ``name`` can be a Kubernetes node name.

    >>> valid_node_name("aks-np2-12345678-vmss000003"), valid_node_name("a b")
    (True, False)
    """
    return bool(_NODE.match(name))


def parse_label(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as a pair; raises BadInput with the reason.

    >>> parse_label("topology.kubernetes.io/zone=westeurope-3")
    ('topology.kubernetes.io/zone', 'westeurope-3')
    """
    key, sep, value = text.partition("=")
    if not sep:
        raise BadInput(f"--label {text!r}: expected KEY=VALUE, e.g. pool=np1")
    prefix, slash, name = key.rpartition("/")
    if not _KEY_NAME.match(name) or (slash and not _KEY_PREFIX.match(prefix)):
        raise BadInput(f"--label {text!r}: {key!r} is not a label key (e.g. pool, topology.kubernetes.io/zone)")
    if not _VALUE.match(value):
        raise BadInput(f"--label {text!r}: a value is at most 63 characters of letters, digits, '.', '_' and '-'")
    return key, value


def node_info(name: str | None, labels: Iterable[str]) -> NodeInfo:
    """The ``node`` object of a report. Without ``--node`` the name is empty (fleet names it after its source).

    >>> node_info("n1", ["pool=np1", "zone="]).labels
    (('pool', 'np1'),)
    """
    if name is not None and not valid_node_name(name):
        raise BadInput(f"--node {name!r}: expected a Kubernetes node name (letters, digits, '.', '-', '_')")
    pairs: dict[str, str] = {}
    for text in labels:
        key, value = parse_label(text)
        if key in pairs and value and pairs[key] != value:
            raise BadInput(f"--label {key}: given twice with different values")
        if value:
            pairs[key] = value
    if len(pairs) > MAX_LABELS:
        raise BadInput(f"--label: at most {MAX_LABELS} labels")
    return NodeInfo(name=name or "", labels=tuple(sorted(pairs.items())))
