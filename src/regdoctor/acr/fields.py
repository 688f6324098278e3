"""Typed access to untrusted JSON: every wrong shape is a ``BadInput`` naming the file and the key.

Strategy
--------
A schema per input, written as code: the parsers ask for ``text(obj, "publicNetworkAccess",
at)``, ``choice(…, ("Enabled", "Disabled"))``, ``items(…)``; each helper checks the type (and
for enums the value) and, when it is wrong, raises ``BadInput("show.json: properties.
networkRuleSet.defaultAction: expected one of Allow, Deny, got 'Block'")`` — one line, exit 2.
Key lookup is case-insensitive (exports from other tools vary the casing). Absent keys are
``None``: every network field is optional, because which ones exist depends on the API version.
Values echoed in messages are cut to ~100 characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from regdoctor.errors import BadInput

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class At:
    """Where a value sits: the input's name (a file, ``stdin``) and the key path inside it.

    >>> At("show.json").key("networkRuleSet").key("ipRules").index(0).where
    'show.json: networkRuleSet.ipRules[0]'
    """

    source: str
    path: str = ""

    def key(self, name: str) -> At:
        return At(self.source, f"{self.path}.{name}" if self.path else name)

    def index(self, i: int) -> At:
        return At(self.source, f"{self.path}[{i}]")

    @property
    def where(self) -> str:
        return f"{self.source}: {self.path}" if self.path else self.source

    def fail(self, problem: str) -> NoReturn:
        raise BadInput(f"{self.where}: {problem}")


def kind(value: Any) -> str:
    """How a JSON value is named in messages.

    >>> kind([]), kind({}), kind("x"), kind(True), kind(1.5), kind(None)
    ('a JSON array', 'a JSON object', 'a JSON string', 'a JSON boolean', 'a JSON number', 'a JSON null')
    """
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    names = {str: "string", bool: "boolean", int: "number", float: "number"}
    return "a JSON " + names.get(type(value), "null")


def echo(value: Any) -> str:
    """A value as quoted in a message, at most ~100 characters."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def get(obj: Obj, key: str) -> Any:
    """``obj[key]`` with a case-insensitive fallback; ``None`` when absent."""
    if key in obj:
        return obj[key]
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return None


def has(obj: Obj, key: str) -> bool:
    low = key.lower()
    return any(isinstance(k, str) and k.lower() == low for k in obj)


def obj(value: Any, at: At) -> Obj:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        at.fail(f"expected a JSON object, got {kind(value)}")
    return value


def sub(parent: Obj, key: str, at: At) -> Obj | None:
    """``parent[key]`` when it is an object; ``None`` when absent or null."""
    v = get(parent, key)
    return None if v is None else obj(v, at.key(key))


def text(parent: Obj, key: str, at: At) -> str | None:
    """``parent[key]`` when it is a string; ``None`` when absent or null."""
    v = get(parent, key)
    if v is None or isinstance(v, str):
        return v
    at.key(key).fail(f"expected a string, got {kind(v)}")


def flag(parent: Obj, key: str, at: At) -> bool | None:
    """``parent[key]`` as a boolean (``"true"``/``"false"`` strings too, as some exports write them)."""
    v = get(parent, key)
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    at.key(key).fail(f"expected true or false, got {echo(v)}")


def choice(parent: Obj, key: str, at: At, allowed: Sequence[str]) -> str | None:
    """``parent[key]`` when it is one of ``allowed`` (case-insensitive); returned as the service spells it.

    >>> choice({"defaultAction": "deny"}, "defaultAction", At("f"), ("Allow", "Deny"))
    'Deny'
    """
    v = text(parent, key, at)
    if v is None:
        return None
    for a in allowed:
        if v.strip().lower() == a.lower():
            return a
    at.key(key).fail(f"expected one of {', '.join(allowed)}, got {echo(v)}")


def array(parent: Obj, key: str, at: At) -> list[Any] | None:
    """``parent[key]`` when it is a list; ``None`` when absent or null."""
    v = get(parent, key)
    if v is None or isinstance(v, list):
        return v
    at.key(key).fail(f"expected a list, got {kind(v)}")


def objects(parent: Obj, key: str, at: At) -> list[tuple[Obj, At]]:
    """The objects of the list ``parent[key]``, each with its position (``[]`` when absent)."""
    out: list[tuple[Obj, At]] = []
    for i, v in enumerate(array(parent, key, at) or []):
        where = at.key(key).index(i)
        out.append((obj(v, where), where))
    return out


def props(o: Obj) -> Obj:
    """REST nests under ``properties``; the CLI flattens. Merge so either works (top level wins)."""
    nested = get(o, "properties")
    if isinstance(nested, dict):
        return {**nested, **{k: v for k, v in o.items() if not (isinstance(k, str) and k.lower() == "properties")}}
    return o


__all__ = ["At", "Obj", "array", "choice", "echo", "flag", "get", "has", "kind", "obj", "objects", "props", "sub",
           "text"]
