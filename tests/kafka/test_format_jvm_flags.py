"""The format JVM's start-up flags (kraft_entrypoint.memory) on every release of the matrix: the
flags it starts from are that release's own default, and its JVM starts with them added."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable

import pytest
from kafka_support import MATRIX, Dist

from kraft_entrypoint.memory import KAFKA_PERFORMANCE_OPTS, format_jvm_environment


@pytest.mark.parametrize("version", MATRIX)
def test_format_jvm_flags_fit_every_release(version: str, dist: Callable[[str], Dist]) -> None:
    """kafka-run-class.sh's default KAFKA_JVM_PERFORMANCE_OPTS is KAFKA_PERFORMANCE_OPTS; with
    the format JVM's environment, kafka-storage.sh random-uuid prints an id (the JVM took them)."""
    home = dist(version).home
    script = (home / "bin" / "kafka-run-class.sh").read_text()
    defaults = re.findall(r'^\s*KAFKA_JVM_PERFORMANCE_OPTS="([^"]*)"', script, re.MULTILINE)
    assert defaults == [KAFKA_PERFORMANCE_OPTS]
    env = {**os.environ, **format_jvm_environment({})}
    proc = subprocess.run([str(home / "bin" / "kafka-storage.sh"), "random-uuid"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", proc.stdout.strip().splitlines()[-1]), proc.stdout
