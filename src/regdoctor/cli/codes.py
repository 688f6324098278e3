"""``regdoctor codes``: list the catalogue."""

from __future__ import annotations

import click

from regdoctor.cli._common import color_option, terminal, write


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@click.option("--layer", help="Only codes of this layer.")
@color_option
def codes(as_json: bool, layer: str | None) -> None:
    """List every finding code: layer, severity, title, fix, docs, matching az check-health code."""
    from regdoctor import kb
    from regdoctor.render import catalogue_json, catalogue_text

    entries = [c for c in kb.catalogue().values() if layer is None or c.layer == layer]
    write(catalogue_json(entries) if as_json else catalogue_text(entries, term=terminal()))
