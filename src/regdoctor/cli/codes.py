"""``regdoctor codes [CODE…]``: list the catalogue, or show entries whole."""

from __future__ import annotations

import click

from regdoctor.cli._common import color_option, fail_usage, record_format, shown, terminal, write


@click.command()
@click.argument("names", metavar="[CODE]...", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.", callback=record_format)
@click.option("--layer", help="Only codes of this layer.")
@color_option
def codes(names: tuple[str, ...], as_json: bool, layer: str | None) -> None:
    """List every finding code: layer, severity, title and matching az check-health code.

    \b
    With CODE (as printed in a finding, any case): that entry whole — why, fix, docs.
    """
    import difflib

    from regdoctor import kb
    from regdoctor.render import catalogue_json, catalogue_text, code_entries_text

    by_name = kb.catalogue()
    catalogue = by_name.values()
    layers = sorted({c.layer for c in catalogue})
    if layer is not None and layer not in layers:
        fail_usage(f"--layer {shown(layer)}: not a layer (one of {', '.join(layers)})")
    entries = [c for c in catalogue if layer is None or c.layer == layer]
    if names:
        known = {str(c.code): c for c in entries}
        picked = []
        for name in names:
            key = name.strip().upper().replace("-", "_")
            if key in by_name and key not in known:
                fail_usage(f"{shown(name)} is a {by_name[kb.Code(key)].layer} code, not of --layer {layer}")
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else "; `regdoctor codes` lists them"
                fail_usage(f"{shown(name)}: not a finding code{hint}")
            picked.append(known[key])
        write(catalogue_json(picked) if as_json else code_entries_text(picked, term=terminal()))
        return
    write(catalogue_json(entries) if as_json else catalogue_text(entries, term=terminal()))
