"""Scenario 1, second half: a cold start in reverse order (kafka-2, then kafka-1, then kafka-0),
each pod started once the previous one has exec'd Kafka, as a StatefulSet with
OrderedReady would never do and a restart storm might."""

from __future__ import annotations

import time

import pytest
from kafka_support import VOTERS, LabFactory, Report, check_new_cluster, kraftlab

# The slow tier: tests/k8s starts the pods in parallel on a real Kubernetes
pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_cold_start_reverse_order(new_lab: LabFactory, report: Report) -> None:
    lab = new_lab()
    start = time.monotonic()
    for i in (2, 1, 0):
        pod_run = lab.start(i)
        # Kafka's first log line: the entrypoint has decided, formatted and exec'd the JVM.

        def exec_done(r: kraftlab.PodRun = pod_run) -> bool:
            return r.process.poll() is None and r.stdout_text().strip() != ""

        kraftlab.wait_until(
            f"kafka-{i} to exec Kafka",
            exec_done,
            timeout=60,
            interval=0.2,
            on_timeout=pod_run.tail,
        )
    status = lab.wait_ready(VOTERS, VOTERS)
    report.time("cold start, reverse order 2,1,0 (start to quorum + 3 brokers)", time.monotonic() - start)
    # kafka-2 came first: the cluster id must be the one it obtained, and every pod shares it.
    assert (lab.share_dir / "cluster_id").read_text().strip() in lab.current(2).stderr_text()
    check_new_cluster(lab, status, "cold-reverse")
