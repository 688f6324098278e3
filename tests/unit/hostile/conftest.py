"""Fixtures of the socket-level tests: scripted servers on loopback, stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hostile.servers import Server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """The test's scripted servers (each appended as made), stopped when it ends."""
    made: list[Server] = []
    yield made
    for s in made:
        s.stop()
