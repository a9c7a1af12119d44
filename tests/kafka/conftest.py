"""Fixtures of the real-Kafka scenarios (marker ``kafka``): the Kafka 3.3.2 distribution from
scripts/kafka-dist, the probe client, and labs (network-namespace pods) that are always torn
down, also when a test fails. Needs root; see scripts/kraftlab."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_support import REPORT, LabFactory, Report, kraftlab


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.kafka)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (REPORT.timings or REPORT.findings):
        return
    terminalreporter.section("real Kafka 3.3.2: timings and findings")
    for label, seconds in REPORT.timings:
        terminalreporter.write_line(f"{seconds:7.1f}s  {label}")
    for text in REPORT.findings:
        terminalreporter.write_line(f"- {text}")


@pytest.fixture(scope="session")
def report() -> Report:
    return REPORT


@pytest.fixture(scope="session")
def kafka_home(report: Report) -> Path:
    if os.geteuid() != 0:
        pytest.skip("the real-Kafka scenarios need root (network namespaces for the pods)")
    stale = kraftlab.reap_stale()
    if stale:
        kraftlab.log(f"removed leftovers of dead runs: {', '.join(stale)}")
    start = time.monotonic()
    home = kraftlab.fetch_dist()
    report.time("scripts/kafka-dist (cached after the first run)", time.monotonic() - start)
    return home


@pytest.fixture(scope="session")
def probe_dir(kafka_home: Path) -> Path:
    return kraftlab.compile_probe(kafka_home)


@pytest.fixture(scope="module")
def new_lab(kafka_home: Path, probe_dir: Path) -> Iterator[LabFactory]:
    """Opens labs whose pods run the entrypoint with this test run's interpreter; each one is
    closed (processes, namespaces, bridge, /etc/netns entries, files) at the module's end,
    also when a test or the lab's own setup failed."""
    labs: list[kraftlab.Lab] = []

    def factory() -> kraftlab.Lab:
        lab = kraftlab.Lab(kafka_home, probe_dir, python=sys.executable)
        labs.append(lab)
        return lab.open()

    yield factory
    problems: list[str] = []
    for lab in labs:
        problems += lab.close()
    assert not problems, problems
