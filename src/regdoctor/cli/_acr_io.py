"""The I/O edge of the ACR model: files, stdin, the ``az`` CLI, and live DNS for ``acr dns``.

``regdoctor.acr`` is pure; everything it needs from outside comes through here. Files and
stdin are read with a size cap (``MAX_BYTES``), must be UTF-8 JSON no deeper than
``safejson.MAX_DEPTH``, and every failure is a ``BadInput`` (exit 2) naming the input. ``az``
runs with a timeout and no stdin. DNS goes through ``regdoctor.net.dns`` — the one package that
opens sockets — and comes back as ``acr.dns.Resolution`` values for the pure judge.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from regdoctor.errors import BadInput

if TYPE_CHECKING:
    from regdoctor.acr.dns import Resolution
    from regdoctor.acr.inputs import Document, Inputs
    from regdoctor.acr.model import RegistryConfig
    from regdoctor.model import Report

#: Largest input we read. A registry's JSON is a few KB; anything near this is not one.
MAX_BYTES = 20 * 1024 * 1024
#: Seconds one ``az`` call may take (it talks to ARM; a login prompt must not hang us).
AZ_TIMEOUT = 60.0


def decode(source: str, data: bytes) -> Any:
    """Parse one JSON input; ``BadInput`` with a clear reason naming ``source``.

    >>> decode("inline", b'{"a": 1}')
    {'a': 1}
    """
    from regdoctor import safejson

    if len(data) > MAX_BYTES:
        raise BadInput(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB; a registry's JSON is a few KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{source}: not UTF-8 text (binary file?); expected the JSON of an az command") from None
    if not text.strip():
        raise BadInput(f"{source}: empty; expected the JSON of an az command")
    try:
        return safejson.loads(data, max_bytes=MAX_BYTES, max_depth=safejson.MAX_DEPTH)
    except safejson.JSONLimitError as exc:
        if exc.kind == "too_deep":
            raise BadInput(f"{source}: JSON nested too deeply to be a registry's (over {safejson.MAX_DEPTH} "
                           "levels)") from None
        if exc.kind != "not_json":
            raise BadInput(f"{source}: {exc}") from None
    try:  # the depth is known to be safe: decode again for the position of the syntax error
        json.loads(text)
    except json.JSONDecodeError as err:
        # An error at the very end, or a string never closed, means the input stops too early.
        truncated = err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string")
        hint = " (truncated?)" if truncated else ""
        raise BadInput(f"{source}: not valid JSON{hint}: {err.msg} (line {err.lineno}, column {err.colno})") from None
    raise BadInput(f"{source}: not valid JSON")


def input_name(path: str) -> str:
    """``path`` as it names the input in messages: ``stdin`` for ``-``, control characters escaped.

    >>> input_name("-"), input_name("show.json"), input_name("two" + chr(10) + "lines")
    ('stdin', 'show.json', "'two\\\\nlines'")
    """
    if path == "-":
        return "stdin"
    return path if path.isprintable() and len(path) <= 200 else repr(path[:200])


def read_json(path: str) -> Any:
    """Read and parse the JSON file ``path`` (``-`` for stdin)."""
    return decode(input_name(path), _read_capped(path))


def _read_capped(path: str) -> bytes:
    if path == "-":
        return _read_stream(sys.stdin.buffer, "stdin")
    p = Path(path)
    try:
        if p.is_dir():
            raise BadInput(f"{input_name(path)}: is a directory, not a JSON file")
        with p.open("rb") as fh:
            return _read_stream(fh, path)
    except FileNotFoundError:
        raise BadInput(f"{input_name(path)}: no such file") from None
    except PermissionError:
        raise BadInput(f"{input_name(path)}: permission denied") from None
    except OSError as exc:
        raise BadInput(f"{input_name(path)}: cannot read ({exc.strerror or exc})") from None


def _read_stream(fh: BinaryIO, name: str) -> bytes:
    # Read one byte past the cap so an oversized input is told apart without reading all of it.
    data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BadInput(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB; a registry's JSON is a few KB")
    return data


def document(path: str) -> Document:
    from regdoctor.acr.fields import At
    from regdoctor.acr.inputs import Document

    return Document(read_json(path), At(input_name(path)))


def read_inputs(config: str | None, *, replications: str | None = None, connections: str | None = None,
                zone_records: str | None = None, private_endpoints: Sequence[str] = ()) -> list[Inputs]:
    """The documents of CONFIG (possibly combined) and the optional list files, read."""
    from regdoctor.acr.inputs import Inputs, split_combined

    if sum(p == "-" for p in (config, replications, connections, zone_records, *private_endpoints)) > 1:
        raise BadInput("only one input can be read from stdin (-)")
    parts: list[Inputs] = []
    if config is not None:
        parts.append(split_combined(read_json(config), input_name(config)))
    parts.append(Inputs(
        replications=(document(replications),) if replications else (),
        connections=(document(connections),) if connections else (),
        zone_records=(document(zone_records),) if zone_records else (),
        private_endpoints=tuple(document(p) for p in private_endpoints),
    ))
    return parts


def load(config: str, *, replications: str | None = None, connections: str | None = None,
         zone_records: str | None = None, private_endpoints: Sequence[str] = ()) -> RegistryConfig:
    """Read CONFIG (a file, ``-`` for stdin, possibly combined) plus the optional list files, and build.

    >>> load("/nonexistent.json")
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: /nonexistent.json: no such file
    """
    from regdoctor.acr.inputs import build

    return build(read_inputs(config, replications=replications, connections=connections,
                             zone_records=zone_records, private_endpoints=private_endpoints))


def check_config(path: str, hosts: Sequence[str]) -> RegistryConfig:
    """``check --acr-config FILE``: the registry configuration, which must describe a checked host."""
    cfg = load(path)
    if not any(cfg.role_of(h) is not None for h in hosts):
        raise BadInput(f"--acr-config {path}: describes {cfg.login_server}, which no REF names "
                       f"(checked: {', '.join(hosts)[:200]})")
    return cfg


def explain_report(report: Report, cfg: RegistryConfig, path: str) -> Report:
    """The report with each firewall refusal of ``cfg``'s registry explained by its configuration."""
    from dataclasses import replace

    from regdoctor.acr.firewall import enrich

    return replace(report, findings=enrich(report.findings, report.endpoints, cfg, config=path))


# --------------------------------------------------------------------------- the az CLI

def az(args: list[str]) -> Document:
    """Run ``az ARGS -o json`` with a timeout; ``BadInput`` (exit 2) with az's own first error line."""
    from regdoctor.acr.fields import At
    from regdoctor.acr.inputs import Document

    exe = shutil.which("az")
    what = "az " + " ".join(args)
    if exe is None:
        raise BadInput(f"--name needs the az CLI, which is not on PATH; save `{what} -o json` to a file "
                       "and pass it as CONFIG")
    try:
        proc = subprocess.run([exe, *args, "-o", "json", "--only-show-errors"], capture_output=True,
                              timeout=AZ_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BadInput(f"`{what}` did not finish within {AZ_TIMEOUT:g} s (not logged in? run `az login`)") from None
    except OSError as exc:
        raise BadInput(f"cannot run az: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        err = next((ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()),
                   f"exit status {proc.returncode}")
        raise BadInput(f"`{what}` failed: {err[:300]}")
    return Document(decode(f"`{what}`", proc.stdout), At(f"`{what}`"))


# --------------------------------------------------------------------------- live DNS

def resolve(host: str, *, resolver: str | None = None, timeout: float = 3.0) -> Resolution:
    """Resolve ``host`` as a client here would (system resolver), and fetch its CNAME chain.

    With ``resolver`` only that server is asked, directly. Never raises for a DNS failure: the
    failure is the ``error`` of the result.
    """
    from regdoctor.acr.dns import Resolution
    from regdoctor.net import Deadline, DnsError
    from regdoctor.net import dns as netdns

    chain: tuple[tuple[str, str], ...] = ()
    direct: tuple[str, ...] = ()
    direct_err: DnsError | None = None
    used = resolver or ""
    try:
        ans = netdns.query_chain(host, Deadline(timeout), [resolver] if resolver else None)
        chain, direct, used = ans.chain, ans.addresses, ans.nameserver
    except DnsError as exc:
        direct_err = exc
        used = str(exc.info.get("resolver") or used)
        chain = tuple((str(a), str(b)) for a, b in exc.info.get("chain") or ())
    label = used if resolver else f"the system resolver ({used or 'resolv.conf'})"
    if resolver is None:
        try:
            system = tuple(netdns.system_resolve(host, 443, Deadline(timeout)))
        except DnsError as exc:
            if direct_err is None and not direct:
                return Resolution(host, label, (), chain, exc.message, exc.kind)
            system = ()
        if system:
            return Resolution(host, label, system, chain)
    if direct:
        return Resolution(host, label, direct, chain)
    if direct_err is not None:
        # the rcode when the server answered one (its message only repeats it), else the message
        return Resolution(host, label, (), chain, str(direct_err.info.get("rcode") or direct_err.message),
                          direct_err.kind)
    return Resolution(host, label, (), chain, "no A or AAAA record", "nodata")


def resolve_all(hosts: Sequence[str], *, resolver: str | None = None, timeout: float = 3.0) -> list[Resolution]:
    """``resolve`` for every host, in parallel so a dead resolver costs one timeout, not one per name."""
    from concurrent.futures import ThreadPoolExecutor

    if not hosts:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        return list(pool.map(lambda h: resolve(h, resolver=resolver, timeout=timeout), hosts))


__all__ = ["AZ_TIMEOUT", "MAX_BYTES", "az", "check_config", "decode", "document", "explain_report", "load",
           "read_inputs", "read_json", "resolve", "resolve_all"]
