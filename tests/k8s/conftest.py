"""Fixtures of the real-Kubernetes scenarios (marker ``k8s``): the cluster of ``scripts/k8s``, the
project's image built from docker/Dockerfile the way the container tests build it and loaded into
the cluster's containerd, and a fresh namespace with its own volumes per scenario. Needs root.

The cluster is brought up once per session; when this session started it, it is taken down at
the end (``scripts/test`` does the same around the whole run), unless KRAFT_K8S_KEEP=1.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The image is built exactly as the container tests build it: their harness, reused.
from kraftlab import container as ch
from kraftlab import k8s as kh


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.k8s)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (kh.REPORT.timings or kh.REPORT.figures):
        return
    terminalreporter.section("real Kubernetes: timings and figures")
    for label, seconds in kh.REPORT.timings:
        terminalreporter.write_line(f"{seconds:7.1f}s  {label}")
    for text in kh.REPORT.figures:
        terminalreporter.write_line(f"- {text}")


@pytest.fixture(scope="session")
def report() -> kh.Report:
    return kh.REPORT


@pytest.fixture(scope="session")
def cluster(report: kh.Report) -> Iterator[None]:
    """``scripts/k8s up`` (builds Kubernetes on the first run: 10-20 min)."""
    if not kh.is_root():
        pytest.skip("the real-Kubernetes scenarios need root (scripts/k8s runs a node)")
    was_up = kh.cluster_is_up()
    started = time.monotonic()
    kh.k8s("up", timeout=3600)
    report.time("scripts/k8s up" + (" (already up)" if was_up else ""), time.monotonic() - started)
    yield
    if not was_up and os.environ.get("KRAFT_K8S_KEEP") != "1":
        kh.k8s("down", timeout=600)


@pytest.fixture(scope="session")
def image(cluster: None, report: kh.Report, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The image of docker/Dockerfile (openjdk:11 stand-in, Kafka tarball packed from
    scripts/kafka-dist on a loopback file server) in the cluster's containerd under the name of
    the manifests' image line."""
    return kh.load_project_image(tmp_path_factory.mktemp("tarball"))


@pytest.fixture
def namespace(cluster: None, request: pytest.FixtureRequest) -> Iterator[kh.Namespace]:
    """A fresh namespace named after the test; deleted with its volumes afterwards."""
    short = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:24].strip("-")
    ns = kh.Namespace(f"kt-{short}")
    try:
        yield ns
    finally:
        ns.close()


@pytest.fixture
def manifests(namespace: kh.Namespace, image: str, tmp_path: Path) -> Path:
    """The repository's k8s/ as a user prepares it for this scenario: a new cluster id made by the
    image (README step 3) in place of the example one, and the scenario's namespace."""
    return kh.prepare_manifests(tmp_path, namespace.name, kh.new_cluster_id(ch.IMAGE_TAG))
