"""Azure region names: validation, normalisation, the region label of a registry host, service tags.

Strategy
--------
ARM region names are lower-case letters and digits (``westeurope``, ``eastus2``); the portal and
``az account list-locations`` also show display names (``West Europe``, ``East US 2``). A name
the user types (``--region``) or a JSON carries is normalised by dropping the spaces and lower-
casing; what is left must be letters and digits starting with a letter, or it is not a region
and cannot be part of a host name (``west europe!`` is refused, never turned into a rule).
Azure adds regions every year, so a well-formed name that is not in ``KNOWN`` is accepted and
only flagged (``is_known``) — a typo is then a visible note, a new region still works.
"""

from __future__ import annotations

import re

#: ARM names of the public, US Government and China clouds' regions (az account list-locations).
_KNOWN_NAMES = """
eastus eastus2 southcentralus westus2 westus3 australiaeast southeastasia northeurope swedencentral
uksouth westeurope centralus southafricanorth centralindia eastasia japaneast koreacentral canadacentral
francecentral germanywestcentral italynorth norwayeast polandcentral spaincentral switzerlandnorth
mexicocentral uaenorth brazilsouth israelcentral qatarcentral northcentralus westus japanwest jioindiawest
westcentralus southafricawest australiacentral australiacentral2 australiasoutheast jioindiacentral
koreasouth southindia westindia canadaeast francesouth germanynorth norwaywest switzerlandwest ukwest
uaecentral brazilsoutheast newzealandnorth indonesiacentral malaysiawest chilecentral austriaeast
belgiumcentral denmarkeast taiwannorth taiwannorthwest swedensouth centraluseuap eastus2euap
usgovvirginia usgovtexas usgovarizona usgoviowa usdodeast usdodcentral
chinaeast chinaeast2 chinaeast3 chinanorth chinanorth2 chinanorth3
"""
KNOWN = frozenset(_KNOWN_NAMES.split())

# Letters and digits, starting with a letter; display names may separate words with spaces.
_DISPLAY = re.compile(r"[A-Za-z][A-Za-z0-9]*(?: +[A-Za-z0-9]+)*")
_ARM = re.compile(r"[a-z][a-z0-9]{1,39}")


def normalise_region(value: str) -> str:
    """ARM region names are lower case without spaces; display names are not.

    >>> normalise_region("West Europe"), normalise_region("eastus2")
    ('westeurope', 'eastus2')
    """
    return "".join(value.split()).lower()


def parse_region(value: str) -> str:
    """The ARM name of ``value``, or ``ValueError`` when it is not shaped like an Azure region.

    >>> parse_region(" East US 2 ")
    'eastus2'
    >>> parse_region("west europe!")
    Traceback (most recent call last):
    ...
    ValueError: 'west europe!' is not an Azure region name (letters and digits, e.g. westeurope or "West Europe")
    """
    text = value.strip()
    arm = normalise_region(text)
    if len(text) > 60 or not _DISPLAY.fullmatch(text) or not _ARM.fullmatch(arm):
        raise ValueError(f"{value[:100]!r} is not an Azure region name (letters and digits, e.g. westeurope "
                         'or "West Europe")')
    return arm


def is_region(value: str) -> bool:
    """``parse_region`` would accept it (used on region labels found inside host names).

    >>> is_region("westeurope"), is_region("data"), is_region("x-y")
    (True, True, False)
    """
    try:
        parse_region(value)
    except ValueError:
        return False
    return True


def is_known(region: str) -> bool:
    """A region of the public, US Government or China clouds (``False`` may be a new region or a typo).

    >>> is_known("westeurope"), is_known("westeurpoe")
    (True, False)
    """
    return region in KNOWN


def host_region(host: str) -> str:
    """The region label of ``<reg>.<region>.data|geo.<suffix>``; ``""`` when there is none.

    >>> host_region("myreg.eastus.data.azurecr.io"), host_region("myreg.azurecr.io")
    ('eastus', '')
    """
    labels = host.lower().split(".")
    if len(labels) >= 4 and labels[2] in ("data", "geo") and is_region(labels[1]):
        return labels[1]
    return ""


# Tokens of ARM region names, longest first, for the CamelCase of service tags
# (westeurope -> WestEurope, eastus2 -> EastUS2). Upper-case abbreviations are listed as such.
_REGION_TOKENS = sorted((
    "southeast", "northeast", "southwest", "northwest", "north", "south", "east", "west", "central",
    "us", "uk", "uae", "eu", "europe", "asia", "pacific", "japan", "australia", "brazil", "canada", "france",
    "germany", "india", "korea", "norway", "switzerland", "sweden", "qatar", "israel", "italy", "poland",
    "mexico", "spain", "africa", "newzealand", "taiwan", "indonesia", "malaysia", "chile", "austria",
    "belgium", "denmark", "finland", "greece", "saudiarabia", "jio", "gov", "dod", "virginia", "texas",
    "arizona", "iowa", "china", "ireland", "netherlands", "euap",
), key=len, reverse=True)
_UPPER = {"us": "US", "uk": "UK", "uae": "UAE", "eu": "EU", "dod": "DoD", "euap": "EUAP"}
_SPECIAL = {"newzealand": "NewZealand", "saudiarabia": "SaudiArabia"}


def tag_region(region: str) -> str:
    """The region as written in service tag names (best effort for unknown names).

    >>> tag_region("westeurope"), tag_region("eastus2"), tag_region("uksouth"), tag_region("usgovvirginia")
    ('WestEurope', 'EastUS2', 'UKSouth', 'USGovVirginia')
    """
    s = normalise_region(region)
    out: list[str] = []
    while s:
        digits = re.match(r"\d+", s)
        if digits:
            out.append(digits.group())
            s = s[digits.end():]
            continue
        tok = next((t for t in _REGION_TOKENS if s.startswith(t)), None)
        if tok is None:  # an unknown word: keep the rest, capitalised
            out.append(s[:1].upper() + s[1:])
            break
        out.append(_UPPER.get(tok) or _SPECIAL.get(tok) or tok.capitalize())
        s = s[len(tok):]
    return "".join(out)


__all__ = ["KNOWN", "host_region", "is_known", "is_region", "normalise_region", "parse_region", "tag_region"]
