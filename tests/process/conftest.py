"""Fixtures of the process suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import FakeKafka


@pytest.fixture
def fake(tmp_path: Path, template_path: Path) -> FakeKafka:
    """A fake KAFKA_HOME under tmp_path whose scripts record their calls."""
    return FakeKafka.create(tmp_path, template_path)
