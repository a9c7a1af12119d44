"""Helpers of the real-Kafka scenarios: reading what the entrypoint decided, storage evidence,
and the report printed at the end of the run (timings and the seed's measured behaviour)."""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO / "scripts"))

import kraftlab as kraftlab  # noqa: E402  (re-exported for the tests)

#: The entrypoint logs one line per decision; about storage: "format: running ..." or
#: "format: skipped ...". The patterns accept small wording changes, not another decision.
FORMAT_RUNNING = re.compile(r"\bformat\b\W+running", re.IGNORECASE)
FORMAT_SKIPPED = re.compile(r"\bformat\b\W+skip", re.IGNORECASE)
#: What kafka-storage.sh (StorageTool) itself prints when it formats a directory.
STORAGE_TOOL_FORMATTED = "Formatting "

VOTERS = {0, 1, 2}

#: The ``new_lab`` fixture: opens a lab that is closed at the end of the module.
LabFactory = Callable[[], "kraftlab.Lab"]


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


@dataclass(frozen=True)
class FormatEvidence:
    """What proves that a start did or did not format: the entrypoint's decision line, the
    storage tool's own output, and meta.properties / bootstrap.checkpoint (which ``format``
    writes) unchanged in content and inode."""

    meta: tuple[int, bytes]
    checkpoint: tuple[int, bytes]

    @classmethod
    def of(cls, data_dir: Path) -> FormatEvidence:
        def snap(path: Path) -> tuple[int, bytes]:
            return (os.stat(path).st_ino, path.read_bytes())

        return cls(snap(data_dir / "meta.properties"), snap(data_dir / "bootstrap.checkpoint"))


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
