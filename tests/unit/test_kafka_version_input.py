"""KAFKA_VERSION: the version is read from KAFKA_HOME/libs, named by KAFKA_VERSION where there is
no installation, and never guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from .support import Cli, Outcome, valid_env


def _run(cli: Cli, tmp_path: Path, template: Path, libs: Optional[str], declared: Optional[str]) -> Outcome:
    """--dry-run with KAFKA_HOME/libs holding Kafka ``libs`` (None: no libs/), KAFKA_VERSION ``declared``."""
    if libs is not None:
        (tmp_path / "kafka" / "libs").mkdir(parents=True)
        (tmp_path / "kafka" / "libs" / f"kafka_2.13-{libs}.jar").write_bytes(b"")
    return cli.run(["--dry-run"], valid_env(tmp_path, template, KAFKA_VERSION=declared))


def _error(outcome: Outcome) -> str:
    assert outcome.exit_code == 2, outcome.log
    assert outcome.stdout == b""
    (line,) = [line for line in outcome.log.splitlines() if line.startswith("ERROR: ")]
    return line


def test_neither_an_installation_nor_kafka_version_exits_2_naming_both(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """No version is guessed: the message names KAFKA_HOME's libs, KAFKA_VERSION and an example."""
    line = _error(_run(cli, tmp_path, template_path, None, None))
    assert f"{tmp_path}/kafka/libs (KAFKA_HOME (--kafka-home))" in line
    assert "KAFKA_VERSION (--kafka-version) is not set" in line
    assert "KAFKA_VERSION=3.3.2" in line


def test_a_libs_without_a_broker_jar_is_no_installation(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    (tmp_path / "kafka" / "libs").mkdir(parents=True)
    (tmp_path / "kafka" / "libs" / "kafka-clients-3.3.2.jar").write_bytes(b"")
    assert "is not set" in _error(_run(cli, tmp_path, template_path, None, None))


@pytest.mark.parametrize("version", ["3.3.2", "3.9.2", "4.4.0"])
def test_kafka_version_names_a_stand_in_home(
    version: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """Without libs/, KAFKA_VERSION is the version: 3.9.2 has a dynamic quorum, 3.3.2 has not."""
    outcome = _run(cli, tmp_path, template_path, None, version)
    assert outcome.exit_code == 0, outcome.log
    assert f"INFO: Kafka version: {version} (from KAFKA_VERSION (--kafka-version); " in outcome.log
    dynamic = cli.run(
        ["--dry-run", "--quorum", "dynamic"], valid_env(tmp_path, template_path, KAFKA_VERSION=version)
    )
    assert dynamic.exit_code == (2 if version == "3.3.2" else 0), dynamic.log


def test_kafka_version_equal_to_the_installation_is_accepted(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    outcome = _run(cli, tmp_path, template_path, "3.9.2", "3.9.2")
    assert outcome.exit_code == 0, outcome.log
    assert f"INFO: Kafka version: 3.9.2 (from {tmp_path}/kafka/libs)" in outcome.log


def test_kafka_version_different_from_the_installation_exits_2(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    line = _error(_run(cli, tmp_path, template_path, "3.9.2", "3.3.2"))
    assert "KAFKA_VERSION (--kafka-version) is 3.3.2" in line
    assert "holds Kafka 3.9.2" in line
    assert "set it to 3.9.2" in line


@pytest.mark.parametrize("value", ["3.3", "3.3.2-rc1", "latest", "3.3.2.1", " 3.3.2x"])
def test_a_malformed_kafka_version_exits_2(value: str, cli: Cli, tmp_path: Path, template_path: Path) -> None:
    line = _error(_run(cli, tmp_path, template_path, None, value))
    assert line.startswith("ERROR: KAFKA_VERSION (--kafka-version): ")
    assert "x.y.z (e.g. 3.3.2)" in line


@pytest.mark.parametrize(("libs", "declared"), [(None, "3.2.3"), ("3.2.3", None), ("3.2.3", "3.2.3")])
def test_below_3_3_exits_2_either_way(
    libs: Optional[str], declared: Optional[str], cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    line = _error(_run(cli, tmp_path, template_path, libs, declared))
    assert "KRaft needs Kafka >= 3.3" in line
    assert ("KAFKA_VERSION (--kafka-version) is 3.2.3" in line) == (libs is None)


def test_the_probe_reads_kafka_version_too(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """The probe resolves the config's place from the version as the start does: never guessed."""
    from kraft_entrypoint import probe

    env = valid_env(tmp_path, template_path, KAFKA_VERSION=None)
    with pytest.raises(probe.ProbeFailed, match="KAFKA_VERSION"):
        probe._read_target(env)
    env["KAFKA_VERSION"] = "3.3.2"
    with pytest.raises(probe.ProbeFailed, match="is not written yet"):
        probe._read_target(env)
