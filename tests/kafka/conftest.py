"""Fixtures of the real-Kafka scenarios (marker ``kafka``): the installations of the version matrix
from scripts/kafka-dist (each fetched once per session, cached on disk), the probe client compiled
against each, and labs (network-namespace pods) that are always torn down, also when a test
fails. Needs root; see kraftlab/."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

import pytest
from kafka_support import DEFAULT_VERSION, REPORT, Dist, LabFactory, Report, close_labs, kraftlab


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.kafka)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (REPORT.timings or REPORT.findings):
        return
    terminalreporter.section("real Kafka: timings and findings")
    for label, seconds in REPORT.timings:
        terminalreporter.write_line(f"{seconds:7.1f}s  {label}")
    for text in REPORT.findings:
        terminalreporter.write_line(f"- {text}")


@pytest.fixture(scope="session")
def report() -> Report:
    return REPORT


@pytest.fixture(scope="session")
def dist(report: Report) -> Callable[[str], Dist]:
    """``dist(version)``: that version's installation (scripts/kafka-dist) and probe client."""
    if os.geteuid() != 0:
        pytest.skip("the real-Kafka scenarios need root (network namespaces for the pods)")
    stale = kraftlab.reap_stale()
    if stale:
        kraftlab.log(f"removed leftovers of dead runs: {', '.join(stale)}")
    cache: dict[str, Dist] = {}

    def get(version: str) -> Dist:
        if version not in cache:
            start = time.monotonic()
            home = kraftlab.fetch_dist(version)
            probe = kraftlab.compile_probe(home)
            label = f"scripts/kafka-dist {version} + probe (cached after the first run)"
            report.time(label, time.monotonic() - start)
            cache[version] = Dist(version, home, probe)
        return cache[version]

    return get


@pytest.fixture(scope="session")
def kafka_home(dist: Callable[[str], Dist]) -> Path:
    return dist(DEFAULT_VERSION).home


@pytest.fixture(scope="session")
def probe_dir(dist: Callable[[str], Dist]) -> Path:
    return dist(DEFAULT_VERSION).probe_dir


@pytest.fixture(scope="module")
def new_lab(dist: Callable[[str], Dist]) -> Iterator[LabFactory]:
    """Opens labs (on the default version unless one is given); each one is closed at the
    module's end, also when a test or the lab's own setup failed."""
    labs: list[kraftlab.Lab] = []

    def factory(version: Optional[str] = None) -> kraftlab.Lab:
        lab = kraftlab.Lab(
            dist(version or DEFAULT_VERSION).home,
            dist(version or DEFAULT_VERSION).probe_dir,
            python=sys.executable,
        )
        labs.append(lab)
        return lab.open()

    yield factory
    close_labs(labs)
