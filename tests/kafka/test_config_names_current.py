"""The configuration names the entrypoint checks KAFKA_CFG_* overrides against are what each
release of the matrix defines: scripts/config-names, re-run on its jars, prints the committed list."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_support import MATRIX, Dist

from kraft_entrypoint import installation

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", MATRIX)
def test_committed_config_names_are_current(version: str, dist: Callable[[str], Dist]) -> None:
    """scripts/config-names VERSION equals kraft_entrypoint/config_names/VERSION.txt, line for line."""
    dist(version)  # built (or found in the cache) the way every real-Kafka test gets it
    generated = subprocess.run(
        [str(ROOT / "scripts" / "config-names"), version],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.splitlines()
    committed = (Path(installation.CONFIG_NAMES_DIR) / f"{version}.txt").read_text().splitlines()
    assert generated == committed, "run scripts/config-names --write and commit the lists"
    assert len(generated) > 200
    assert "log.retention.hours" in generated
