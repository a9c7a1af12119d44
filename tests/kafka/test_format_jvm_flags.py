"""The format JVM's environment (kraft_entrypoint.format_jvm) on every release of the matrix: the
flags it starts from are that release's own defaults, its JVM starts with them, and it starts no
JMX agent, where Kafka's default starts one."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_support import MATRIX, Dist

from kraft_entrypoint import format_jvm


@pytest.mark.parametrize("version", MATRIX)
def test_format_jvm_flags_fit_every_release(version: str, dist: Callable[[str], Dist]) -> None:
    """kafka-run-class.sh's default KAFKA_JVM_PERFORMANCE_OPTS is KAFKA_PERFORMANCE_OPTS; with
    the format JVM's environment, kafka-storage.sh random-uuid prints an id (the JVM took them)."""
    home = dist(version).home
    script = (home / "bin" / "kafka-run-class.sh").read_text()
    defaults = re.findall(r'^\s*KAFKA_JVM_PERFORMANCE_OPTS="([^"]*)"', script, re.MULTILINE)
    assert defaults == [format_jvm.KAFKA_PERFORMANCE_OPTS]
    env, _ = format_jvm.environment(dict(os.environ))
    proc = _random_uuid(home, env)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", proc.stdout.strip().splitlines()[-1]), proc.stdout


@pytest.mark.parametrize("version", MATRIX)
def test_format_jvm_starts_no_jmx_agent(version: str, dist: Callable[[str], Dist], tmp_path: Path) -> None:
    """kafka-run-class.sh's default KAFKA_JMX_OPTS is format_jvm.KAFKA_JMX_OPTS, and with it the JVM
    loads the JMX agent's connector; with the format JVM's environment it does not."""
    home = dist(version).home
    script = (home / "bin" / "kafka-run-class.sh").read_text()
    defaults = re.findall(r'^\s*KAFKA_JMX_OPTS="(-D[^"]*)"', script, re.MULTILINE)
    assert [" ".join(d.split()) for d in defaults] == [format_jvm.KAFKA_JMX_OPTS]
    base = {k: v for k, v in os.environ.items() if "JMX" not in k}
    loaded = {}
    for name, env in (("kafka's default", base), ("format JVM", format_jvm.environment(base)[0])):
        log = tmp_path / f"{name.split()[0]}.log"
        _random_uuid(home, env | {"KAFKA_OPTS": f"-Xlog:class+load:file={log}"})
        loaded[name] = "sun.management.jmxremote.ConnectorBootstrap " in log.read_text()
    assert loaded == {"kafka's default": True, "format JVM": False}


def _random_uuid(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``kafka-storage.sh random-uuid``, a short JVM of the storage tool, which must succeed."""
    proc = subprocess.run([str(home / "bin" / "kafka-storage.sh"), "random-uuid"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc
