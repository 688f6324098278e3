"""regdoctor's own exceptions, each with the exit code the CLI turns it into.

    RegdoctorError            exit 3: regdoctor itself failed
    ├── OutputError           the report could not be written (stdout closed, disk full)
    └── UsageError            exit 2: bad usage or unreadable input (one line on stderr)
        ├── BadReference      a REF that is not a registry reference
        └── BadInput          a file or stdin that cannot be read or parsed
"""

from __future__ import annotations


class RegdoctorError(Exception):
    exit_code = 3


class OutputError(RegdoctorError):
    """Standard output refused the report: not a bug to report, the message says what happened."""


class UsageError(RegdoctorError):
    exit_code = 2


class BadReference(UsageError):
    pass


class BadInput(UsageError):
    pass
