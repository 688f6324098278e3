"""Docker's image reference grammar: a port of distribution/reference (what ``docker pull`` uses).

Strategy
--------
The grammar is compiled from the same named pieces as ``regexp.go`` (``alphanumeric``,
``separator``, ``domainNameComponent``, ``optionalPort``, ``tag``, ``digestPat``,
``ipv6address``, …), so a rule changed there is changed in one place here. The functions are
the module's own, one for one: ``Parse`` (:func:`parse`), ``ParseNormalizedNamed``,
``ParseDockerRef``, ``ParseAnyReference``, ``ParseNamed``, ``WithName``, ``FamiliarName`` and
``FamiliarString``, with the same decisions in the same order, and errors of the same kinds
with docker's own words (:class:`RefError`). Digests are checked as go-digest v1.0.0 (the
version distribution/reference requires) checks them.

Faithfulness notes (Go ↔ Python):

* Go's ``regexp`` returns the submatches a backtracking engine would; Python's ``re`` is such an
  engine, so the captured domain/path split is the same. Every pattern is compiled with
  ``re.ASCII`` (Go's ``\\w`` and ``[0-9]`` are ASCII; Python's are not) and anchored with
  ``\\A``/``\\Z`` (Python's ``$`` also matches before a final newline; Go's does not).
* ``strings.ToLower`` uses Unicode's simple case mapping; ``str.lower`` the full one, which
  differs only for U+0130 (``İ`` → ``i`` in Go, ``i̇`` in Python): :func:`_go_lower` maps it.
* The grammar has no nested ambiguity (separators and alphanumerics are disjoint), so matching
  is linear in the input length; a test times hostile inputs.

This module only reads references; which host to connect to is :mod:`regdoctor.target`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from regdoctor.errors import BadReference

# --------------------------------------------------------------------------- grammar (regexp.go)

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
LOCALHOST = "localhost"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
TAG_PATTERN = r"[\w][\w.-]{0,127}"
DIGEST_PATTERN = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"  # [[:xdigit:]]
_IDENTIFIER = r"([a-f0-9]{64})"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r"(?:\." + _DOMAIN_NAME_COMPONENT + r")*"
HOST_PATTERN = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6_ADDRESS + r")"
DOMAIN_AND_PORT_PATTERN = HOST_PATTERN + _OPTIONAL_PORT


def _optional(*res: str) -> str:
    return r"(?:" + "".join(res) + r")?"


def _any_times(*res: str) -> str:
    return r"(?:" + "".join(res) + r")*"


def _capture(*res: str) -> str:
    return r"(" + "".join(res) + r")"


def _anchored(*res: str) -> str:
    return r"\A" + "".join(res) + r"\Z"


PATH_COMPONENT_PATTERN = _ALPHANUMERIC + _any_times(_SEPARATOR + _ALPHANUMERIC)
_REMOTE_NAME = PATH_COMPONENT_PATTERN + _any_times(r"/" + PATH_COMPONENT_PATTERN)
NAME_PATTERN = _optional(DOMAIN_AND_PORT_PATTERN + r"/") + _REMOTE_NAME

REFERENCE_RE = re.compile(
    _anchored(_capture(NAME_PATTERN), _optional(r":", _capture(TAG_PATTERN)),
              _optional(r"@", _capture(DIGEST_PATTERN))), re.ASCII)
ANCHORED_NAME_RE = re.compile(_anchored(_optional(_capture(DOMAIN_AND_PORT_PATTERN), r"/"),
                                        _capture(_REMOTE_NAME)), re.ASCII)
ANCHORED_DOMAIN_RE = re.compile(_anchored(DOMAIN_AND_PORT_PATTERN), re.ASCII)
ANCHORED_TAG_RE = re.compile(_anchored(TAG_PATTERN), re.ASCII)
ANCHORED_DIGEST_RE = re.compile(_anchored(DIGEST_PATTERN), re.ASCII)
ANCHORED_IDENTIFIER_RE = re.compile(_anchored(_IDENTIFIER), re.ASCII)

NAME_TOTAL_LENGTH_MAX = 255  # RepositoryNameTotalLengthMax: the path, without the domain (since v0.6.0)

LEGACY_DEFAULT_DOMAIN = "index.docker.io"
DEFAULT_DOMAIN = "docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"

# --------------------------------------------------------------------------- go-digest v1.0.0

#: hex length of each algorithm go-digest knows (``Algorithm.Size() * 2``)
DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
#: what docker registers (moby imports crypto/sha256 and crypto/sha512, which provides sha384)
DOCKER_ALGORITHMS: frozenset[str] = frozenset(DIGEST_HEX_LENGTH)
_GO_DIGEST_ANCHORED_RE = re.compile(r"\A[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z", re.ASCII)
_LOWER_HEX_RE = re.compile(r"\A[a-f0-9]+\Z", re.ASCII)


class RefError(Enum):
    """The error kinds of distribution/reference and go-digest; the value is docker's message."""

    INVALID_FORMAT = "invalid reference format"  # ErrReferenceInvalidFormat
    TAG_INVALID_FORMAT = "invalid tag format"  # ErrTagInvalidFormat (WithTag)
    DIGEST_REF_INVALID_FORMAT = "invalid digest format"  # ErrDigestInvalidFormat (WithDigest)
    NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"  # ErrNameContainsUppercase
    NAME_EMPTY = "repository name must have at least one component"  # ErrNameEmpty
    NAME_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"  # ErrNameTooLong
    NAME_NOT_CANONICAL = "repository name must be canonical"  # ErrNameNotCanonical
    NAME_IS_IDENTIFIER = "cannot specify 64-byte hexadecimal strings"  # ParseNormalizedNamed
    DIGEST_INVALID_FORMAT = "invalid checksum digest format"  # digest.ErrDigestInvalidFormat
    DIGEST_INVALID_LENGTH = "invalid checksum digest length"  # digest.ErrDigestInvalidLength
    DIGEST_UNSUPPORTED = "unsupported digest algorithm"  # digest.ErrDigestUnsupported


class InvalidReference(BadReference):
    """A reference docker would refuse; ``kind`` says which of docker's errors it is.

    >>> try:
    ...     parse_normalized_named("Nginx")
    ... except InvalidReference as exc:
    ...     print(exc.kind.name, "|", exc)
    NAME_CONTAINS_UPPERCASE | invalid reference format: repository name (library/Nginx) must be lowercase
    """

    def __init__(self, kind: RefError, message: str | None = None) -> None:
        super().__init__(message or kind.value)
        self.kind = kind


@dataclass(frozen=True)
class Reference:
    """What ``Parse`` returns. ``path`` is empty for a bare digest (Go's ``digestReference``).

    >>> r = parse("localhost:5000/team/app:v1")
    >>> (r.domain, r.path, r.tag, r.digest, r.name)
    ('localhost:5000', 'team/app', 'v1', '', 'localhost:5000/team/app')
    """

    domain: str = ""
    path: str = ""
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """``Name()``: domain and path (empty for a bare digest)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def is_named(self) -> bool:
        return bool(self.path)

    def __str__(self) -> str:
        """``String()``: ``name[:tag][@digest]``, or the digest alone."""
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out = f"{out}@{self.digest}" if out else self.digest
        return out


def _go_lower(s: str) -> str:
    """Go's ``strings.ToLower`` (Unicode simple case mapping)."""
    return s.replace("\u0130", "i").lower()


def validate_digest(value: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> None:
    """go-digest v1.0.0 ``Digest.Validate``; ``algorithms`` are the registered (importable) ones.

    >>> validate_digest("sha256:" + "a" * 64)
    >>> validate_digest("sha256:abc")
    Traceback (most recent call last):
    ...
    regdoctor.reference.InvalidReference: invalid checksum digest length
    """
    i = value.find(":")
    if i <= 0 or i + 1 == len(value):
        raise InvalidReference(RefError.DIGEST_INVALID_FORMAT)
    algorithm, encoded = value[:i], value[i + 1:]
    if algorithm not in algorithms or algorithm not in DIGEST_HEX_LENGTH:
        if not _GO_DIGEST_ANCHORED_RE.match(value):
            raise InvalidReference(RefError.DIGEST_INVALID_FORMAT)
        raise InvalidReference(RefError.DIGEST_UNSUPPORTED)
    if len(encoded) != DIGEST_HEX_LENGTH[algorithm]:
        raise InvalidReference(RefError.DIGEST_INVALID_LENGTH)
    if not _LOWER_HEX_RE.match(encoded):
        raise InvalidReference(RefError.DIGEST_INVALID_FORMAT)


def is_identifier(s: str) -> bool:
    """A 64-hex content identifier (``anchoredIdentifierRegexp``)."""
    return ANCHORED_IDENTIFIER_RE.match(s) is not None


# --------------------------------------------------------------------------- reference.go

def parse(s: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> Reference:
    """``Parse``: a reference exactly as written (no normalisation).

    >>> str(parse("test:5000/repo@sha256:" + "f" * 64)) == "test:5000/repo@sha256:" + "f" * 64
    True
    >>> parse("aa/asdf$$^/aa")
    Traceback (most recent call last):
    ...
    regdoctor.reference.InvalidReference: invalid reference format
    """
    if s == "":
        raise InvalidReference(RefError.NAME_EMPTY)
    m = REFERENCE_RE.match(s)
    if m is None:
        lowered = _go_lower(s)
        if lowered != s and REFERENCE_RE.match(lowered) is not None:
            raise InvalidReference(RefError.NAME_CONTAINS_UPPERCASE)
        raise InvalidReference(RefError.INVALID_FORMAT)
    name, tag, digest = m.group(1), m.group(2) or "", m.group(3) or ""
    nm = ANCHORED_NAME_RE.match(name)
    domain, path = ((nm.group(1) or "", nm.group(2)) if nm is not None else ("", name))
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(RefError.NAME_TOO_LONG)
    if digest:
        validate_digest(digest, algorithms)
    if not path:  # getBestReferenceType: no name (unreachable through the grammar, kept as Go has it)
        if digest:
            return Reference(digest=digest)
        raise InvalidReference(RefError.NAME_EMPTY)
    return Reference(domain, path, tag, digest)


def with_name(name: str) -> Reference:
    """``WithName``: a name alone (no tag, no digest), validated.

    >>> with_name("test.com:8080/foo").domain
    'test.com:8080'
    """
    m = ANCHORED_NAME_RE.match(name)
    if m is None:
        raise InvalidReference(RefError.INVALID_FORMAT)
    if len(m.group(2)) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(RefError.NAME_TOO_LONG)
    return Reference(m.group(1) or "", m.group(2))


# --------------------------------------------------------------------------- normalize.go

def split_docker_domain(name: str) -> tuple[str, str]:
    """``splitDockerDomain``: the domain and remote name, defaulting to Docker Hub.

    >>> split_docker_domain("nginx:1.25"), split_docker_domain("Foo/bar"), split_docker_domain("docker.io/nginx")
    (('docker.io', 'library/nginx:1.25'), ('Foo', 'bar'), ('docker.io', 'library/nginx'))
    """
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if maybe_domain == LEGACY_DEFAULT_DOMAIN:  # the "Docker Index" is Docker Hub
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif (maybe_domain == LOCALHOST  # a reserved namespace
          or "." in maybe_domain or ":" in maybe_domain  # a domain or IP address, maybe with a port
          or _go_lower(maybe_domain) != maybe_domain):  # namespaces are lower case: a domain
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def parse_normalized_named(s: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> Reference:
    """``ParseNormalizedNamed``: a familiar name as ``docker pull`` reads it.

    >>> str(parse_normalized_named("nginx:1.25"))
    'docker.io/library/nginx:1.25'
    >>> str(parse_normalized_named("index.docker.io/library/nginx"))
    'docker.io/library/nginx'
    """
    if is_identifier(s):
        raise InvalidReference(RefError.NAME_IS_IDENTIFIER,
                               f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = split_docker_domain(s)
    remote = remainder.partition(":")[0]
    if _go_lower(remote) != remote:
        raise InvalidReference(RefError.NAME_CONTAINS_UPPERCASE,
                               f"invalid reference format: repository name ({remote}) must be lowercase")
    ref = parse(domain + "/" + remainder, algorithms)
    if not ref.is_named:  # pragma: no cover - Parse of "domain/…" always has a name
        raise InvalidReference(RefError.INVALID_FORMAT, f"reference {ref} has no name")
    return ref


def parse_docker_ref(s: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> Reference:
    """``ParseDockerRef``: normalised, tagged ``latest`` when bare, the tag dropped beside a digest.

    >>> str(parse_docker_ref("library/busybox"))
    'docker.io/library/busybox:latest'
    """
    ref = parse_normalized_named(s, algorithms)
    if ref.digest:
        return Reference(ref.domain, ref.path, "", ref.digest)
    return Reference(ref.domain, ref.path, ref.tag or DEFAULT_TAG, "")


def parse_any_reference(s: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> Reference:
    """``ParseAnyReference``: an identifier, a full digest, or a familiar name.

    >>> str(parse_any_reference("a" * 64)) == "sha256:" + "a" * 64
    True
    """
    if is_identifier(s):
        return Reference(digest="sha256:" + s)
    try:
        validate_digest(s, algorithms)
    except InvalidReference:
        return parse_normalized_named(s, algorithms)
    return Reference(digest=s)


def parse_named(s: str, algorithms: frozenset[str] = DOCKER_ALGORITHMS) -> Reference:
    """``ParseNamed``: only a reference already in canonical (normalised) form.

    >>> parse_named("docker.io/library/foo").path
    'library/foo'
    """
    ref = parse_normalized_named(s, algorithms)
    if str(ref) != s:
        raise InvalidReference(RefError.NAME_NOT_CANONICAL)
    return ref


def familiar_name(ref: Reference) -> str:
    """``FamiliarName``: Docker Hub's domain and a single-level ``library/`` removed.

    >>> familiar_name(parse_normalized_named("docker.io/library/redis")), familiar_name(parse("example.com/a"))
    ('redis', 'example.com/a')
    """
    if ref.domain != DEFAULT_DOMAIN:
        return ref.name
    path = ref.path
    if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX):]:
        path = path[len(OFFICIAL_REPO_PREFIX):]
    return path


def familiar_string(ref: Reference) -> str:
    """``FamiliarString``: the familiar name with its tag and digest."""
    if not ref.is_named:
        return str(ref)
    return str(Reference("", familiar_name(ref), ref.tag, ref.digest))


__all__ = [
    "DEFAULT_DOMAIN", "DOCKER_ALGORITHMS", "InvalidReference", "RefError", "Reference", "familiar_name",
    "familiar_string", "is_identifier", "parse", "parse_any_reference", "parse_docker_ref", "parse_named",
    "parse_normalized_named", "split_docker_domain", "validate_digest", "with_name",
]
