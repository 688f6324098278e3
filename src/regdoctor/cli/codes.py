"""``regdoctor codes``: list the catalogue."""

from __future__ import annotations

import click

from regdoctor.cli._common import color_option, fail_usage, record_format, shown, terminal, write


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.", callback=record_format)
@click.option("--layer", help="Only codes of this layer.")
@color_option
def codes(as_json: bool, layer: str | None) -> None:
    """List every finding code: layer, severity, title, fix, docs, matching az check-health code."""
    from regdoctor import kb
    from regdoctor.render import catalogue_json, catalogue_text

    catalogue = kb.catalogue().values()
    layers = sorted({c.layer for c in catalogue})
    if layer is not None and layer not in layers:
        fail_usage(f"--layer {shown(layer)}: not a layer (one of {', '.join(layers)})")
    entries = [c for c in catalogue if layer is None or c.layer == layer]
    write(catalogue_json(entries) if as_json else catalogue_text(entries, term=terminal()))
