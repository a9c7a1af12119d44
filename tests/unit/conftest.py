"""Fixtures of the unit suite."""

from __future__ import annotations

import pytest

from .support import Cli


@pytest.fixture(scope="session")
def cli(spec_variables: tuple[str, ...]) -> Cli:
    """The click command run in-process, with only the inputs a test gives."""
    return Cli(spec_variables)
