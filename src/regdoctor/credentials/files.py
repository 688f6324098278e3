"""The one reader of Docker's and the containers tools' credential files, and their parsers.

Strategy
--------
Reading (``load_client_config``) is the only I/O here: it finds the files the way the clients
do and hands their bytes to pure parsers. Every file is parsed twice when both families read
it, because they disagree on what is broken:

* docker/cli (``cli/config/config.go`` ``load``, ``configfile.LoadFromReader``): Go's
  ``json.Decoder`` reads the *first* value (trailing bytes ignored; an empty file is an empty
  config); a file it cannot read is a ``WARNING: Error …`` on stderr and docker goes on with an
  empty config, i.e. anonymously.
* containers/image (``pkg/docker/config/config.go`` ``authPath.parse``): ``json.Unmarshal``
  (trailing bytes and empty files are errors), and a broken file *fails the pull*.

Both reject a UTF-8 byte-order mark and replace invalid UTF-8; Go's field names match case-
insensitively. Every problem becomes a :class:`ConfigProblem` naming the file and what is
wrong, never a secret and never silently dropped. JSON is read with :mod:`regdoctor.safejson`
(size and depth limits; documents nested deeper than ``MAX_DEPTH`` are reported as broken
although Go would read up to 10 000 levels: no client writes them).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from regdoctor.safejson import JSONLimitError, nesting_depth

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 200
DOCKER_ENV_VAR = "DOCKER_AUTH_CONFIG"

Reader = Literal["docker", "containers"]
ProblemKind = Literal["unreadable", "too_big", "too_deep", "not_json", "wrong_shape", "bad_entry"]
#: What each client does with a file it cannot use (evidence text for the finding)
CLIENT_EFFECT: dict[Reader, str] = {
    "docker": "docker prints `WARNING: Error parsing config file` and pulls without the credentials in it",
    "containers": "podman, skopeo and buildah fail every pull that reads it (`reading JSON file …`)",
}
_ENV_EFFECT = ("docker prints `Failed to create credential store from DOCKER_AUTH_CONFIG` and falls back to "
               "its config file and credential helpers")


@dataclass(frozen=True)
class ConfigProblem:
    """A credential file (or ``DOCKER_AUTH_CONFIG``) a client cannot use, and why."""

    path: str
    kind: ProblemKind
    detail: str
    readers: tuple[Reader, ...]
    effect: str


@dataclass(frozen=True)
class AuthEntry:
    """One ``auths`` entry, decoded as the client decodes it (``bad`` says why it is unusable)."""

    key: str
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    bad: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.username or self.password or self.identity_token)


@dataclass(frozen=True)
class AuthFile:
    """One credential file as one client family sees it; ``problem`` set means it is unusable."""

    path: str
    reader: Reader
    exists: bool = False
    legacy: bool = False
    auths: tuple[AuthEntry, ...] = ()
    cred_helpers: tuple[tuple[str, str], ...] = ()
    creds_store: str = ""
    problem: ConfigProblem | None = None

    def auth(self, key: str) -> AuthEntry | None:
        return next((a for a in self.auths if a.key == key), None)

    def helper(self, key: str) -> str | None:
        return next((h for k, h in self.cred_helpers if k == key), None)


@dataclass(frozen=True)
class ClientConfig:
    """Everything the credential lookups read, loaded once at the edge.

    ``containers`` lists the files in containers/image's search order; ``docker_default_store``
    is docker's ``DetectDefaultStore`` result (used only when the config has no auth at all).
    """

    docker: AuthFile
    docker_env: AuthFile | None = None
    containers: tuple[AuthFile, ...] = ()
    containers_helpers: tuple[str, ...] = ("containers-auth.json",)
    docker_default_store: str = ""

    @property
    def problems(self) -> tuple[ConfigProblem, ...]:
        """Every unusable file once, with every client family that cannot read it."""
        merged: dict[str, ConfigProblem] = {}
        files = [self.docker, *([self.docker_env] if self.docker_env else []), *self.containers]
        for f in files:
            for p in _file_problems(f):
                key = f"{p.path}\0{p.detail}"
                if key in merged:
                    old = merged[key]
                    readers = tuple(dict.fromkeys(old.readers + p.readers))
                    merged[key] = ConfigProblem(p.path, p.kind, p.detail, readers,
                                                "; ".join(CLIENT_EFFECT[r] for r in readers))
                else:
                    merged[key] = p
        return tuple(merged.values())


def _file_problems(f: AuthFile) -> list[ConfigProblem]:
    out = [f.problem] if f.problem else []
    for a in f.auths:
        if a.bad:
            out.append(_problem(f.path, "bad_entry", a.bad, f.reader))
    return out


def _problem(path: str, kind: ProblemKind, detail: str, reader: Reader) -> ConfigProblem:
    effect = _ENV_EFFECT if path == DOCKER_ENV_VAR else CLIENT_EFFECT[reader]
    return ConfigProblem(path, kind, detail, (reader,), effect)


# -- JSON as Go reads it --------------------------------------------------------------------------

def go_json_decode(data: bytes, *, first_value_only: bool) -> Any:
    """Decode like Go's encoding/json (``Decoder.Decode`` when ``first_value_only``, else
    ``Unmarshal``) within the size and depth limits; raise JSONLimitError.

    >>> go_json_decode(b'{"a": 1} trailing', first_value_only=True)
    {'a': 1}
    """
    if len(data) > MAX_BYTES:
        raise JSONLimitError("too_big", f"larger than {MAX_BYTES} bytes ({len(data)} bytes)")
    if nesting_depth(data, stop_above=MAX_DEPTH) > MAX_DEPTH:
        raise JSONLimitError("too_deep", f"nested deeper than {MAX_DEPTH} levels")
    if data.startswith(b"\xef\xbb\xbf"):
        raise JSONLimitError("not_json", "starts with a UTF-8 byte-order mark, which Go's JSON decoder rejects")
    text = data.decode("utf-8", "replace")
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        if first_value_only:
            return None  # io.EOF: docker treats an empty file as an empty config
        raise JSONLimitError("not_json", "empty file (unexpected end of JSON input)")
    try:
        value, end = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(stripped)
    except json.JSONDecodeError as exc:
        offset = len(text) - len(stripped)
        raise JSONLimitError("not_json", f"not JSON: {exc.msg} (character {exc.pos + offset})") from None
    except _ConstantError:
        raise JSONLimitError("not_json", "not JSON: NaN or Infinity is not a JSON value") from None
    except RecursionError:  # unreachable below MAX_DEPTH; a typed error all the same
        raise JSONLimitError("too_deep", f"nested deeper than {MAX_DEPTH} levels") from None
    rest = stripped[end:].lstrip(" \t\r\n")
    if rest and not first_value_only:
        raise JSONLimitError("not_json", f"not JSON: invalid character after top-level value (character "
                                         f"{len(text) - len(rest)})")
    return value


class _ConstantError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


def _type_name(v: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), "a value")


def _go_fields(obj: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    """Go's case-insensitive field matching: the last key spelling a field wins."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        low = k.lower()
        if low in names:
            out[low] = v
    return out


_ENTRY_FIELDS = {"username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken"}


def decode_auth(auth: str) -> tuple[str, str]:
    """docker/cli ``decodeAuth``: base64 ``user:password``; ValueError if unusable.

    >>> decode_auth("dXNlcjpwYXNz")
    ('user', 'pass')
    """
    if auth == "":
        return "", ""
    try:
        raw = base64.b64decode(auth.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("is not valid base64") from None
    user, sep, password = raw.decode("utf-8", "replace").partition(":")
    if not sep or not user:
        raise ValueError("does not decode to `user:password`")
    return user, password.strip("\x00")


def _entry(key: str, value: Any, path: str, reader: Reader) -> AuthEntry:
    label = f"`auths` entry {key[:100]!r}"
    if value is None:
        return AuthEntry(key)
    if not isinstance(value, dict):
        raise _ShapeError(f"{label} is {_type_name(value)}, expected an object")
    fields = _go_fields(value, _ENTRY_FIELDS if reader == "docker" else {"auth", "identitytoken"})
    for name, v in fields.items():
        if v is not None and not isinstance(v, str):
            raise _ShapeError(f"{label}: `{name}` is {_type_name(v)}, expected a string")
    # Go's StdEncoding skips CR and LF inside base64
    auth = (fields.get("auth") or "").replace("\r", "").replace("\n", "")
    token = fields.get("identitytoken") or ""
    if reader == "docker":
        try:
            user, pw = decode_auth(auth)
        except ValueError as exc:
            return AuthEntry(key, bad=f"{label}: the `auth` value {exc}")
        if not auth:
            user, pw = fields.get("username") or "", fields.get("password") or ""
        return AuthEntry(key, user, pw, token)
    # containers/image decodeDockerAuth: bad base64 is an error, a missing ':' an empty entry
    try:
        raw = base64.b64decode(auth.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return AuthEntry(key, bad=f"{label}: the `auth` value is not valid base64")
    user, sep, pw = raw.decode("utf-8", "replace").partition(":")
    if not sep:
        return AuthEntry(key)
    return AuthEntry(key, user, pw.strip("\x00"), token)


class _ShapeError(ValueError):
    pass


def _string_map(doc: Mapping[str, Any], name: str, section: Any) -> tuple[tuple[str, str], ...]:
    if section is None:
        return ()
    if not isinstance(section, dict):
        raise _ShapeError(f"`{name}` is {_type_name(section)}, expected an object")
    out = []
    for k, v in section.items():
        if v is not None and not isinstance(v, str):
            raise _ShapeError(f"`{name}` entry {k[:100]!r} is {_type_name(v)}, expected a string")
        out.append((k, v or ""))
    return tuple(out)


#: docker/cli ``ConfigFile``'s other fields and their Go types: a value of another type is an
#: ``UnmarshalTypeError``, and docker reports the whole file as unparsable
_DOCKER_FIELDS = {
    "credsstore": "str", "httpheaders": "map:str", "psformat": "str", "imagesformat": "str",
    "networksformat": "str", "pluginsformat": "str", "volumesformat": "str", "statsformat": "str",
    "detachkeys": "str", "serviceinspectformat": "str", "servicesformat": "str", "tasksformat": "str",
    "secretformat": "str", "configformat": "str", "nodesformat": "str", "prunefilters": "list:str",
    "proxies": "map:proxy", "currentcontext": "str", "clipluginsextradirs": "list:str",
    "plugins": "map:map:str", "aliases": "map:str", "features": "map:str",
}


def _type_ok(value: Any, spec: str) -> bool:
    # iterative over the spec (at most three levels), never over the document
    values, parts = [value], spec.split(":")
    for part in parts:
        nxt: list[Any] = []
        for v in values:
            if v is None:
                continue
            if part == "str" and not isinstance(v, str):
                return False
            if part == "proxy":  # ProxyConfig: five string fields, unknown keys ignored
                if not isinstance(v, dict):
                    return False
                known = _go_fields(v, {"httpproxy", "httpsproxy", "noproxy", "ftpproxy", "allproxy"})
                if any(x is not None and not isinstance(x, str) for x in known.values()):
                    return False
            elif part == "map":
                if not isinstance(v, dict):
                    return False
                nxt += list(v.values())
            elif part == "list":
                if not isinstance(v, list):
                    return False
                nxt += v
        values = nxt
    return True


def _check_docker_fields(doc: Mapping[str, Any]) -> None:
    fields = _go_fields(doc, set(_DOCKER_FIELDS))
    for name, value in fields.items():
        if not _type_ok(value, _DOCKER_FIELDS[name]):
            shown = next(k for k in reversed(list(doc)) if k.lower() == name)
            raise _ShapeError(f"`{shown[:100]}` is {_type_name(value)} or holds a value of the wrong type")


def parse_auth_file(path: str, data: bytes | None, reader: Reader, *, legacy: bool = False) -> AuthFile:
    """Parse one credential file as ``reader`` would; ``data`` None means the file does not exist.

    >>> f = parse_auth_file("c.json", b'{"auths": {"r.io": {"auth": "dTpw"}}}', "docker")
    >>> f.auths[0].username, f.problem
    ('u', None)
    >>> parse_auth_file("c.json", b"[" * 500, "docker").problem.detail
    'nested deeper than 200 levels'
    """
    if data is None:
        return AuthFile(path, reader, legacy=legacy)
    try:
        doc = go_json_decode(data, first_value_only=reader == "docker")
        if legacy:
            doc = {"auths": doc}
        if doc is None:
            return AuthFile(path, reader, exists=True, legacy=legacy)
        if not isinstance(doc, dict):
            raise _ShapeError(f"the document is {_type_name(doc)}, expected an object")
        top = _go_fields(doc, {"auths", "credhelpers", "credsstore"})
        auths_raw = top.get("auths")
        if auths_raw is not None and not isinstance(auths_raw, dict):
            raise _ShapeError(f"`auths` is {_type_name(auths_raw)}, expected an object")
        auths = tuple(_entry(k, v, path, reader) for k, v in (auths_raw or {}).items())
        helpers = _string_map(doc, "credHelpers", top.get("credhelpers"))
        store = top.get("credsstore") if reader == "docker" else None
        if reader == "docker":
            _check_docker_fields(doc)
    except JSONLimitError as exc:
        kind: ProblemKind = "not_json" if exc.kind in ("not_json", "not_utf8") else exc.kind  # type: ignore[assignment]
        return AuthFile(path, reader, exists=True, legacy=legacy, problem=_problem(path, kind, str(exc), reader))
    except _ShapeError as exc:
        return AuthFile(path, reader, exists=True, legacy=legacy,
                        problem=_problem(path, "wrong_shape", str(exc), reader))
    return AuthFile(path, reader, exists=True, legacy=legacy, auths=auths, cred_helpers=helpers,
                    creds_store=store or "")


def parse_docker_env_config(value: str) -> AuthFile:
    """docker/cli ``parseEnvConfig`` for ``DOCKER_AUTH_CONFIG``: ``{"auths": {host: {"auth": …}}}``
    only (unknown fields, a missing ``auth`` and a second JSON value are errors).

    >>> parse_docker_env_config('{"auths": {"r.io": {"auth": "dTpw"}}}').auths[0].password
    'p'
    >>> parse_docker_env_config('{"auths": {"r.io": {"username": "u"}}}').problem.kind
    'wrong_shape'
    """
    path = DOCKER_ENV_VAR

    def broken(kind: ProblemKind, detail: str) -> AuthFile:
        return AuthFile(path, "docker", exists=True, problem=_problem(path, kind, detail, "docker"))

    data = value.encode("utf-8", "surrogatepass")
    try:
        doc = go_json_decode(data, first_value_only=True)
    except JSONLimitError as exc:
        return broken("not_json" if exc.kind == "not_utf8" else exc.kind, str(exc))  # type: ignore[arg-type]
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    if text:
        _, end = json.JSONDecoder().raw_decode(text)
        rest = text[end:].lstrip(" \t\r\n")
        if rest and rest[0] not in "]}":  # Go's Decoder.More()
            return broken("not_json", "holds more than one JSON object")
    if doc is None:
        return AuthFile(path, "docker", exists=True)
    try:
        entries = _env_config_entries(doc)
    except _ShapeError as exc:
        return broken("wrong_shape", str(exc))
    except _BadEntryError as exc:
        return broken("bad_entry", str(exc))
    return AuthFile(path, "docker", exists=True, auths=entries)


class _BadEntryError(ValueError):
    pass


def _env_config_entries(doc: Any) -> tuple[AuthEntry, ...]:
    """The ``auths`` of a decoded ``DOCKER_AUTH_CONFIG`` (``parseEnvConfig`` with
    DisallowUnknownFields); raises _ShapeError or _BadEntryError with docker's reason."""
    if not isinstance(doc, dict):
        raise _ShapeError(f"the value is {_type_name(doc)}, expected an object")
    top = _go_fields(doc, {"auths"})
    unknown = [k for k in doc if k.lower() != "auths"]
    if unknown:  # DisallowUnknownFields
        raise _ShapeError(f"unknown field {unknown[0][:100]!r}")
    auths_raw = top.get("auths")
    if auths_raw is not None and not isinstance(auths_raw, dict):
        raise _ShapeError(f"`auths` is {_type_name(auths_raw)}, expected an object")
    return tuple(_env_config_entry(key, entry) for key, entry in (auths_raw or {}).items())


def _env_config_entry(key: str, entry: Any) -> AuthEntry:
    label = f"`auths` entry {key[:100]!r}"
    if entry is not None and not isinstance(entry, dict):
        raise _ShapeError(f"{label} is {_type_name(entry)}, expected an object")
    fields = entry or {}
    extra = [k for k in fields if k.lower() != "auth"]
    if extra:
        raise _ShapeError(f"{label}: unknown field {extra[0][:100]!r}")
    auth = _go_fields(fields, {"auth"}).get("auth")
    if auth is not None and not isinstance(auth, str):
        raise _ShapeError(f"{label}: `auth` is {_type_name(auth)}, expected a string")
    if not auth:
        raise _ShapeError(f"{label} has no `auth` value")
    try:
        user, pw = decode_auth(auth)
    except ValueError as exc:
        raise _BadEntryError(f"{label}: the `auth` value {exc}") from None
    return AuthEntry(key, user, pw)


# -- where the files are (I/O) ----------------------------------------------------------------------

def docker_config_dir(env: Mapping[str, str], home: str) -> Path:
    """docker/cli ``config.Dir()``: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    return Path(env.get("DOCKER_CONFIG") or Path(home) / ".docker")


def containers_auth_paths(env: Mapping[str, str], home: str, uid: int,
                          exists: Any = os.path.exists) -> list[tuple[Path, bool]]:
    """The files podman, skopeo and buildah read, in order, with their legacy-format flag.

    The CLIs pass ``--authfile`` defaulting to ``$REGISTRY_AUTH_FILE``, else
    ``$DOCKER_CONFIG/config.json`` (containers/common ``auth.GetDefaultAuthFile``); an explicit
    file is the only one read. Otherwise containers/image ``getAuthFilePaths``:
    ``$XDG_RUNTIME_DIR/containers/auth.json`` (``/run/containers/$UID/auth.json`` without it;
    skipped with a warning when the directory does not exist), ``$XDG_CONFIG_HOME`` (or
    ``~/.config``) ``/containers/auth.json``, ``~/.docker/config.json``, ``~/.dockercfg``.

    >>> [str(p) for p, _ in containers_auth_paths({"REGISTRY_AUTH_FILE": "/a.json"}, "/h", 0)]
    ['/a.json']
    """
    explicit = env.get("REGISTRY_AUTH_FILE") or (
        str(Path(env["DOCKER_CONFIG"]) / "config.json") if env.get("DOCKER_CONFIG") else "")
    if explicit:
        return [(Path(explicit), False)]
    out: list[tuple[Path, bool]] = []
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        if exists(runtime):
            out.append((Path(runtime) / "containers" / "auth.json", False))
    else:
        out.append((Path(f"/run/containers/{uid}/auth.json"), False))
    out.append((Path(env.get("XDG_CONFIG_HOME") or Path(home) / ".config") / "containers" / "auth.json", False))
    out.append((Path(home) / ".docker" / "config.json", False))
    out.append((Path(home) / ".dockercfg", True))
    return out


def read_capped(path: Path) -> tuple[bytes | None, ConfigProblem | None]:
    """The file's bytes (None if it does not exist), or the reason it cannot be read."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except NotADirectoryError:
        return None, None
    except OSError as exc:
        return None, ConfigProblem(str(path), "unreadable", f"cannot be read: {exc.strerror or exc}", (), "")
    return data, None


def _load(path: Path, reader: Reader, legacy: bool, cache: dict[Path, tuple[bytes | None, ConfigProblem | None]],
          ) -> AuthFile:
    if path not in cache:
        cache[path] = read_capped(path)
    data, err = cache[path]
    if err is not None:
        return AuthFile(str(path), reader, exists=True, legacy=legacy,
                        problem=_problem(str(path), "unreadable", err.detail, reader))
    return parse_auth_file(str(path), data, reader, legacy=legacy)


def load_client_config(env: Mapping[str, str], *, home: str | None = None, uid: int | None = None,
                       which: Any = None) -> ClientConfig:
    """Read every credential file the clients would read for this environment.

    >>> load_client_config({"HOME": "/nonexistent"}).docker.exists
    False
    """
    import shutil

    home = home or env.get("HOME") or str(Path.home())
    uid = os.getuid() if uid is None else uid
    which = which or (lambda name: shutil.which(name, path=env.get("PATH")))
    cache: dict[Path, tuple[bytes | None, ConfigProblem | None]] = {}
    docker = _load(docker_config_dir(env, home) / "config.json", "docker", False, cache)
    env_value = env.get(DOCKER_ENV_VAR, "")
    docker_env = parse_docker_env_config(env_value) if env_value else None
    containers = tuple(_load(p, "containers", legacy, cache) for p, legacy in containers_auth_paths(env, home, uid))
    default_store = ""
    if not (docker.creds_store or docker.cred_helpers or docker.auths):
        # docker/cli DetectDefaultStore (Linux): "pass" if `pass` is installed, else
        # "secretservice"; used only if docker-credential-<that> is on PATH
        platform = "pass" if which("pass") else "secretservice"
        default_store = platform if which(f"docker-credential-{platform}") else ""
    return ClientConfig(docker=docker, docker_env=docker_env, containers=containers,
                        docker_default_store=default_store)


__all__ = [
    "DOCKER_ENV_VAR",
    "AuthEntry",
    "AuthFile",
    "ClientConfig",
    "ConfigProblem",
    "containers_auth_paths",
    "decode_auth",
    "docker_config_dir",
    "go_json_decode",
    "load_client_config",
    "parse_auth_file",
    "parse_docker_env_config",
    "read_capped",
]
