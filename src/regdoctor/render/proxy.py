"""``regdoctor proxy`` as text and markdown: per actor its values with their sources and routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from regdoctor.model import join_host_port


def _values(label: str, values: Sequence[Mapping[str, Any]] | None, indent: str) -> list[str]:
    if values is None:
        return []
    if not values:
        return [f"{indent}{label}: (no proxy variables)"]
    out = [f"{indent}{label}:"]
    for v in values:
        notes = f"  ({'; '.join(v['notes'])})" if v.get("notes") else ""
        out.append(f"{indent}  {v['name']}={v['value']}   ← {v['source']}{notes}")
    return out


def actor_lines(a: Mapping[str, Any]) -> list[str]:
    state = f"pid {a['pid']}, running" if a["running"] else (a["live_note"] or "no running process")
    lines = [f"{a['actor']}: {a['label']}  [{state}]", f"  used for: {a['applies_to']}"]
    lines += _values("files (next start)", a["configured"], "  ")
    lines += _values("running process", a["live"], "  ")
    if a["overrides"]:
        lines += _values("overrides (win over the environment)", a["overrides"], "  ")
    if a["restart_pending"]:
        lines.append(f"  RESTART PENDING: the running process differs from the files; apply with `{a['apply']}`")
    for m in a["mirrors"]:
        lines.append(f"  mirror for {m['registry']}: {m['url']}   ← {m['source']}")
    for t in a["trust"]:
        what = "skip_verify" if t["skip_verify"] else ", ".join(t["ca_files"])
        lines.append(f"  CA trust for {t['host']}: {what}   ← {t['source']}")
    if a["insecure_registries"]:
        lines.append(f"  insecure registries: {', '.join(a['insecure_registries'])}")
    for r in a["routes"]:
        src = f"  ← {r['source']}" if r["source"] else ""
        path = "direct" if r["proxy"] == "direct" else f"via {r['proxy']}"
        lines.append(f"  → {join_host_port(r['host'], r['port'])} ({r['role']}) {path} — {r['reason']}{src}"
                     + ("  [Python rules]" if "Python" in r["actor"] else ""))
    return lines


def render_text(doc: Mapping[str, Any]) -> str:
    hosts = ", ".join(f"{join_host_port(h['host'], h['port'])} ({h['role']})" for h in doc["hosts"])
    lines = [f"regdoctor proxy — who uses which proxy for {hosts or 'no host'}", ""]
    for a in doc["actors"]:
        lines += [*actor_lines(a), ""]
    return "\n".join(lines)


def render_markdown(doc: Mapping[str, Any]) -> str:
    lines = ["## regdoctor proxy", "", "| actor | host | path | rule | source |", "|---|---|---|---|---|"]
    for a in doc["actors"]:
        for r in a["routes"]:
            lines.append(f"| {r['actor']} | {join_host_port(r['host'], r['port'])} ({r['role']}) | {r['proxy']} | "
                         f"{r['reason']} | "
                         f"{r['source'] or ''} |")
    lines.append("")
    for a in doc["actors"]:
        lines.append(f"- **{a['actor']}** ({a['label']}): " + ("running, pid " + str(a["pid"]) if a["running"]
                                                              else a["live_note"] or "not running")
                     + ("; **restart pending**" if a["restart_pending"] else "") + "; files: "
                     + (", ".join(f"`{f}`" for f in a["files"]) or "none"))
    lines.append("")
    return "\n".join(lines)


__all__ = ["actor_lines", "render_markdown", "render_text"]
