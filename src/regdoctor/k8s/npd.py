"""The node-problem-detector custom plugin monitor that runs ``regdoctor check --npd``.

Field names are NPD's (``pkg/custompluginmonitor/types``): ``plugin: custom``, ``pluginConfig``
{invoke_interval, timeout, max_output_length, concurrency,
enable_message_change_based_condition_update}, ``source``, ``metricsReporting``, ``conditions``
(the default state of each condition a permanent rule sets) and ``rules`` {type, condition,
reason, path, args, timeout}. NPD refuses a rule whose timeout exceeds the global one, and a
permanent rule whose condition has no default, so both are derived here, not typed twice.

One permanent rule: a node that cannot reach its registry gets the NodeCondition
``RegistryUnreachable=True`` (what ``kubectl describe node`` shows), with regdoctor's line
("RegistryUnreachable: TCP_TIMEOUT tcp myreg.westeurope.data.azurecr.io:443") as its message.
"""

from __future__ import annotations

import math
from typing import Any

CONDITION = "RegistryUnreachable"
MAX_OUTPUT = 80  # NPD's default max_output_length


def plugin_timeout(step_timeout: float) -> int:
    """Seconds NPD should wait: the fan-out's own bound (timeout × 20 + 5 s) plus start-up.

    >>> plugin_timeout(5)
    115
    """
    return math.ceil(step_timeout * 20 + 15)


def npd_config(refs: tuple[str, ...], path: str, interval_s: int, step_timeout: float,
               extra_args: tuple[str, ...] = ()) -> dict[str, Any]:
    timeout = f"{plugin_timeout(step_timeout)}s"
    args = ["check", "--npd", "--max-output-length", str(MAX_OUTPUT), "--timeout", f"{step_timeout:g}",
            *extra_args, *refs]
    return {
        "plugin": "custom",
        "pluginConfig": {
            "invoke_interval": f"{interval_s}s",
            "timeout": timeout,
            "max_output_length": MAX_OUTPUT,
            "concurrency": 1,
            "enable_message_change_based_condition_update": False,
        },
        "source": "regdoctor-custom-plugin-monitor",
        "metricsReporting": True,
        "conditions": [{"type": CONDITION, "reason": "RegistryReachable",
                        "message": "regdoctor: this node reaches its container registries"}],
        "rules": [{"type": "permanent", "condition": CONDITION, "reason": CONDITION, "path": path,
                   "args": args, "timeout": timeout}],
    }
