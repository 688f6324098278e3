"""Go's ``idna.Lookup.ToASCII`` as ``httpproxy`` applies it to hosts and NO_PROXY entries (pure).

Go's Lookup profile is UTS #46 processing, non-transitional, with UseSTD3ASCIIRules,
CheckHyphens, CheckJoiners and the Bidi rule, and without VerifyDnsLength (golang/net
``idna/idna.go``, ``lookup``). The ``idna`` package supplies the UTS #46 mapping table
(``uts46_remap``), the CONTEXTJ joiner rule (``valid_contextj``) and the RFC 5893 Bidi
rule (``check_bidi``); the label loop around them is Go's ``process``, ported here,
because ``idna.encode`` checks IDNA2008 instead of UTS #46 and so differs from Go:
it rejects characters UTS #46 marks valid (``☃.net``: Go gives ``xn--n3h.net``), runs
CONTEXTO rules Go does not, rejects empty labels (``.示例.com`` is a NO_PROXY entry Go
converts) and enforces label/name lengths Go's Lookup does not check.

Remaining differences from Go, by construction: the Unicode version of the tables
(``idna`` ships its own; Go < 1.27 uses Unicode 15.0.0, Go ≥ 1.27 Unicode 17.0.0), and
``idna``'s defensive 1024-character input limit (Go has none; such an input is treated as
an IDNA error, which httpproxy answers by keeping the original string).
"""

from __future__ import annotations

import unicodedata


class GoIDNAError(ValueError):
    """ToASCII failed; httpproxy then keeps the string as it was."""


_ACE = "xn--"


def lookup_to_ascii(s: str) -> str:
    """``idna.Lookup.ToASCII(s)``, raising ``GoIDNAError`` where Go returns an error.

    >>> lookup_to_ascii(".示例.com")
    '.xn--fsq092h.com'
    >>> lookup_to_ascii("東京\\uFF0Ejp")
    'xn--1lqs71d.jp'
    """
    import idna  # heavy tables: only needed for non-ASCII names

    try:
        mapped = idna.uts46_remap(s, std3_rules=True, transitional=False)
    except idna.IDNAError as exc:
        raise GoIDNAError(str(exc)) from None
    labels = mapped.split(".")
    # Go's label iterator skips a final empty label (the root): "a.b." keeps its dot.
    last = len(labels) - 1 if len(labels) > 1 and labels[-1] == "" else len(labels)
    is_bidi = any(unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in mapped)
    for i in range(last):
        label = labels[i]
        if not label:
            continue  # empty labels are fine without VerifyDnsLength
        if label.startswith(_ACE):
            decoded = _punycode_decode(label[len(_ACE):])
            is_bidi = is_bidi or any(unicodedata.bidirectional(ch) in ("R", "AL", "AN") for ch in decoded)
            labels[i] = decoded
            _validate_from_punycode(decoded)
            _validate_label(decoded)
        else:
            _validate_label(label)
    if is_bidi:
        for label in labels[:last]:
            if label:
                try:
                    idna.check_bidi(label, check_ltr=True)
                except idna.IDNAError as exc:
                    raise GoIDNAError(str(exc)) from None
    for i in range(last):
        if not labels[i].isascii():
            labels[i] = _ACE + _punycode_encode(labels[i])
    return ".".join(labels)


def _punycode_decode(enc: str) -> str:
    try:
        return enc.encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        raise GoIDNAError(f"idna: invalid label {enc!r}") from None


def _punycode_encode(label: str) -> str:
    return label.encode("punycode").decode("ascii")


def _validate_from_punycode(label: str) -> None:
    """Go's validateFromPunycode: NFC, and every character valid (or deviation) in UTS #46."""
    import idna

    if unicodedata.normalize("NFC", label) != label:
        raise GoIDNAError(f"idna: invalid label {label!r}")
    try:
        if idna.uts46_remap(label, std3_rules=True, transitional=False) != label:
            raise GoIDNAError(f"idna: invalid label {label!r}")
    except idna.IDNAError:
        raise GoIDNAError(f"idna: invalid label {label!r}") from None


def _validate_label(label: str) -> None:
    """Go's validateLabel for the Lookup profile: hyphens, leading mark, joiners."""
    import idna

    raw = label.encode("utf-8", "surrogatepass")  # Go indexes bytes, not characters
    if len(raw) > 4 and raw[2:4] == b"--":
        raise GoIDNAError(f"idna: invalid label {label!r}")
    if raw[:1] == b"-" or raw[-1:] == b"-":
        raise GoIDNAError(f"idna: invalid label {label!r}")
    if unicodedata.category(label[0]).startswith("M"):
        raise GoIDNAError(f"idna: invalid label {label!r}")
    for pos, ch in enumerate(label):
        if ch in ("\u200c", "\u200d"):
            try:
                ok = idna.valid_contextj(label, pos)
            except ValueError:
                ok = False
            if not ok:
                raise GoIDNAError(f"idna: invalid label {label!r}")


__all__ = ["GoIDNAError", "lookup_to_ascii"]
