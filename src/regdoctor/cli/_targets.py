"""What to check: REFs as docker reads them, ``-n NAME`` as ``az acr -n`` does, and — when
neither is given — the registries the user's Docker config names. Shared by ``check``,
``proxy`` and ``serve`` so the three read the same words the same way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from regdoctor.credentials import ClientConfig
    from regdoctor.target import Target

#: ``-n/--name``: the option every command that takes a registry offers
acr_name_option = click.option(
    "--name", "-n", "acr_names", multiple=True, metavar="NAME",
    help="An ACR registry by name, as az acr -n: NAME means NAME.azurecr.io (repeatable).")


def named_targets(refs: Iterable[str], acr_names: Iterable[str], *, plain_http: bool = False) -> list[Target]:
    """The REFs, then the ACR names, in the order given (bad ones raise ``BadInput``).

    >>> [t.raw for t in named_targets(["nginx"], ["myacr"])]
    ['nginx', '-n myacr']
    """
    from regdoctor.target import acr_target, parse_target

    return ([parse_target(r, plain_http=plain_http) for r in refs]
            + [acr_target(n, plain_http=plain_http) for n in acr_names])


def config_targets(config: ClientConfig, *, plain_http: bool = False) -> list[Target]:
    """The registries the Docker config names, read as registries whatever their shape (Docker
    Hub when it names none); keys that name no registry (``unix:``) are skipped, as docker does."""
    from regdoctor.credentials import registries_in_config
    from regdoctor.errors import BadReference
    from regdoctor.target import parse_registry, parse_target

    names = []
    for name in registries_in_config(config):
        try:
            parse_target(name)
        except BadReference:
            continue  # a key such as "unix:" names no registry; docker would never use it either
        names.append(name)
    return [parse_registry(n, plain_http=plain_http) for n in names or ["docker.io"]]


__all__ = ["acr_name_option", "config_targets", "named_targets"]
