"""Helpers of the real-Kafka scenarios: reading what the entrypoint decided, storage evidence,
and the report printed at the end of the run (timings and the seed's measured behaviour)."""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

import kraftlab as kraftlab  # re-exported for the tests

REPO = Path(__file__).resolve().parents[2]

#: The entrypoint logs one line per decision; about storage: "format: running ..." or
#: "format: skipped ...". The patterns accept small wording changes, not another decision.
FORMAT_RUNNING = re.compile(r"\bformat\b\W+running", re.IGNORECASE)
FORMAT_SKIPPED = re.compile(r"\bformat\b\W+skip", re.IGNORECASE)
#: What kafka-storage.sh (StorageTool) itself prints when it formats a directory.
STORAGE_TOOL_FORMATTED = "Formatting "

VOTERS = {0, 1, 2}

#: The ``new_lab`` fixture: opens a lab (on the default Kafka version, or the one given) that is
#: closed at the end of the module.
LabFactory = Callable[..., "kraftlab.Lab"]


@dataclass(frozen=True)
class Dist:
    """One installation of the matrix: its KAFKA_HOME and the probe client compiled against it."""

    version: str
    home: Path
    probe_dir: Path


#: The versions the real-Kafka scenarios run on: every version scripts/kafka-dist supports
#: (kafka-dist.d/versions.txt), the default (3.3.2) first.
MATRIX = kraftlab.supported()
#: The matrix as a fixture's params: the default version in every run, the others in the slow
#: tier (scripts/test --full), where tests/k8s and the upgrade journey already cover them in CI.
DEFAULT_THEN_SLOW = [v if v == MATRIX[0] else pytest.param(v, marks=pytest.mark.slow) for v in MATRIX]
DEFAULT_VERSION = kraftlab.DEFAULT_VERSION


@dataclass(frozen=True)
class Delivery:
    """What a producer's acknowledged messages became once the topic is read back."""

    consumed: list[str]
    lost: set[str]  # acknowledged, never read back
    duplicates: list[str]  # read back more than once

    @classmethod
    def of(cls, result: kraftlab.ProduceResult, consumed: list[str]) -> Delivery:
        counts = Counter(consumed)
        return cls(consumed, set(result.acked) - set(consumed), [v for v, n in counts.items() if n > 1])

    def summary(self, result: kraftlab.ProduceResult) -> str:
        """For the report: the producer's last line and the read-back counts."""
        return (f"{result.done_line}, consumed {len(self.consumed)}, lost {len(self.lost)}, "
                f"duplicates {len(self.duplicates)}")


def version_id(version: str) -> str:
    """The test id of a version (``-k kafka-4.4.0`` selects its tests)."""
    return f"kafka-{version}"


@dataclass
class Report:
    """Collected during the run, printed in the terminal summary (also without ``-s``)."""

    timings: list[tuple[str, float]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def time(self, label: str, seconds: float) -> None:
        self.timings.append((label, seconds))

    def finding(self, text: str) -> None:
        self.findings.append(text)


REPORT = Report()


#: The bootstrap snapshot ``kafka-storage.sh format`` writes: bootstrap.checkpoint in the log
#: directory up to 3.x; from 4.0 the metadata log's first checkpoint instead.
BOOTSTRAP_FILES = ("bootstrap.checkpoint", "__cluster_metadata-0/00000000000000000000-0000000000.checkpoint")


def bootstrap_file(data_dir: Path) -> Path:
    for name in BOOTSTRAP_FILES:
        if (data_dir / name).is_file():
            return data_dir / name
    raise AssertionError(f"no bootstrap snapshot ({' or '.join(BOOTSTRAP_FILES)}) in {data_dir}")


def snapshot(path: Path) -> tuple[int, bytes]:
    """A file's inode and content: equal snapshots mean the file was neither rewritten nor replaced."""
    return (os.stat(path).st_ino, path.read_bytes())


@dataclass(frozen=True)
class FormatEvidence:
    """What proves that a start did or did not format: the entrypoint's decision line, the
    storage tool's own output, and meta.properties / the bootstrap snapshot (which ``format``
    writes) unchanged in content and inode."""

    meta: tuple[int, bytes]
    checkpoint: tuple[int, bytes]

    @classmethod
    def of(cls, data_dir: Path) -> FormatEvidence:
        return cls(snapshot(data_dir / "meta.properties"), snapshot(bootstrap_file(data_dir)))


def close_labs(labs: list[kraftlab.Lab]) -> None:
    """Close every lab (processes, namespaces, bridge, /etc/netns entries, files); fail on leftovers."""
    problems: list[str] = []
    for lab in labs:
        problems += lab.close()
    assert not problems, problems


def assert_formatted_once(run: kraftlab.PodRun) -> None:
    err = run.stderr_text()
    assert len(FORMAT_RUNNING.findall(err)) == 1, err
    assert STORAGE_TOOL_FORMATTED in err, err


def assert_not_formatted(run: kraftlab.PodRun) -> None:
    err = run.stderr_text()
    assert FORMAT_SKIPPED.search(err), f"no 'format: skip' decision logged:\n{err}"
    assert not FORMAT_RUNNING.search(err), err
    assert STORAGE_TOOL_FORMATTED not in err + run.stdout_text(), err


def read_meta(data_dir: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line in (data_dir / "meta.properties").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            meta[key.strip()] = value.strip()
    return meta


def is_kafka_jvm(pid: int) -> bool:
    """The pod's process (started as the entrypoint) has become the Kafka JVM: exec, no fork."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return b"kafka.Kafka" in cmdline and Path(cmdline[0].decode()).name == "java"


def random_cluster_id() -> str:
    """A valid Kafka cluster id (as kafka-storage.sh random-uuid makes), not starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def check_new_cluster(lab: kraftlab.Lab, status: kraftlab.Status, topic: str) -> None:
    """Scenario 1's checks on a freshly formed 3-node cluster."""
    shared_id = (lab.share_dir / "cluster_id").read_text().strip()
    assert status.cluster_id == shared_id
    for i in sorted(VOTERS):
        meta = read_meta(lab.data_dir(i))
        assert meta["cluster.id"] == shared_id, meta
        assert meta["node.id"] == str(i), meta
        run = lab.current(i)
        assert_formatted_once(run)
        assert is_kafka_jvm(run.process.pid)
    assert status.leader in VOTERS
    assert status.voters == VOTERS
    assert status.brokers == VOTERS
    lab.create_topic(topic, 3, 3, min_insync_replicas="2")
    parts = lab.wait_isr(topic, VOTERS)
    assert all(p.replicas == VOTERS for p in parts)
    produced = lab.produce(topic, topic, 200)
    assert produced.failed == []
    assert len(produced.acked) == 200
    consumed = lab.consume(topic)
    assert sorted(consumed) == sorted(produced.acked)


#: Restarts of a seed pod whose container exited, as the kubelet would (bounded).
MAX_CONTAINER_RESTARTS = 5


def seed_log_lines(text: str) -> list[str]:
    pattern = re.compile(
        r"cat: |already formatted|No `?meta.properties|expected one argument|error|Exception"
        r"|Formatting|Invalid cluster",
        re.IGNORECASE,
    )
    return [line.strip()[:160] for line in text.splitlines() if pattern.search(line)][:3]


def describe_seed_pod(pod_run: kraftlab.PodRun) -> str:
    code = pod_run.process.poll()
    outcome = "Kafka started" if code is None else f"exited {code}"
    text = pod_run.stderr_text() + pod_run.stdout_text()
    return f"kafka-{pod_run.ordinal} container #{pod_run.number}: {outcome}; {seed_log_lines(text)}"


def start_seed_cluster(lab: kraftlab.Lab, report: Report, timeout: float = 240) -> kraftlab.Status:
    """Parallel start of kafka-0..2 with the seed's entrypoint.sh. Like the kubelet, a container
    that exits is started again after a back-off (2 s, 4 s, ... instead of 10 s, 20 s, ...),
    at most MAX_CONTAINER_RESTARTS times per pod. What happened goes into the report."""
    start = time.monotonic()
    for i in sorted(VOTERS):
        lab.start_seed(i)
    exited_at: dict[int, float] = {}
    deadline = start + timeout
    while not all(lab.current(i).process.poll() is None and lab.kafka_started(i) for i in VOTERS):
        now = time.monotonic()
        if now > deadline:
            raise kraftlab.LabError(
                f"the seed's pods did not all start Kafka in {timeout}s\n" + lab.tails(VOTERS)
            )
        for i in sorted(VOTERS):
            pod_run = lab.current(i)
            if pod_run.process.poll() is None:
                continue
            if i not in exited_at:
                exited_at[i] = now
                report.finding(f"seed, parallel start: {describe_seed_pod(pod_run)}")
            restarts = len(lab.runs[i]) - 1
            assert restarts < MAX_CONTAINER_RESTARTS, lab.tails([i])
            if now - exited_at[i] >= 2 * (restarts + 1):
                del exited_at[i]
                lab.start_seed(i)
        time.sleep(0.5)
    status = lab.wait_ready(VOTERS, VOTERS)
    for i in sorted(VOTERS):
        report.finding(f"seed, parallel start: {describe_seed_pod(lab.current(i))}")
    restart_counts = {i: len(lab.runs[i]) - 1 for i in sorted(VOTERS)}
    report.time(
        "seed: parallel start to quorum + 3 brokers (with container restarts)", time.monotonic() - start
    )
    report.finding(
        f"seed: cluster formed after container restarts {restart_counts}, cluster id {status.cluster_id}"
    )
    return status
