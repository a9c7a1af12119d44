"""`kraft-entrypoint probe startup|ready|live` against real Kafka (SPEC: Probes), run in each pod's
own network namespace with the pod's environment, as the kubelet's exec probe runs it.

Per version, one 3-node cluster (broker+controller pods) in this order: a pod alone, with no
quorum (its listener accepts and never answers: startup and live fail), then the others (startup
passes once the broker is registered); a topic with RF=3 (ready everywhere); pod 2 cut off from
the other brokers' listeners while its controller traffic flows (registered and answering, out of
the ISR: ready fails, startup and live pass, until it catches up); pod 2's JVM stopped (live fails
within the timeout, the others stay ready) and resumed (ready only once back in every ISR).
Each verdict is checked against Kafka's own answer through the lab's Java client.

Secure and controller-only pods: tests/kafka/test_kafka_probe_secure.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Optional

import pytest
from kafka_support import (
    DEFAULT_THEN_SLOW,
    VOTERS,
    Dist,
    Report,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    version_id,
)
from probe_support import poll_probe, run_probe

pytestmark = pytest.mark.kafka

TOPIC = "probed"
#: Followers leave the ISR after this long without catching up (Kafka's default is 30 s).
LAG_MS = "4000"


def in_every_isr(lab: kraftlab.Lab, node: int) -> bool:
    """Kafka's own answer (the lab's Java client): ``node`` is in the ISR of each of its partitions."""
    parts = lab.describe_topic(TOPIC)
    return bool(parts) and all(node in p.isr for p in parts if node in p.replicas)


def drop_rule(lab: kraftlab.Lab, slot: int, action: str, chain: str, direction: str, other: int,
              port: str) -> None:
    """Add (``-A``) or delete (``-D``) one DROP rule in pod ``slot``'s ``chain``: TCP to ``port``
    with the other pod ``other`` as destination (``-d``) or source (``-s``)."""
    subprocess.run(
        ["ip", "netns", "exec", lab.net.ns(slot), "iptables", action, chain, "-p", "tcp",
         direction, lab.net.address(other), "--dport", port, "-j", "DROP"],
        check=True, capture_output=True, timeout=30,
    )


def iptables(lab: kraftlab.Lab, slot: int, action: str, others: list[int]) -> None:
    """Drop (or stop dropping) what pod ``slot`` sends to the other pods' broker listener (9092):
    its follower fetches; its controller traffic (9093) and its own listener are untouched."""
    for other in others:
        drop_rule(lab, slot, action, "OUTPUT", "-d", other, "9092")


class LagLab(kraftlab.Lab):
    """Pods whose followers leave the ISR after LAG_MS instead of Kafka's 30 s."""

    def pod_env(self, ordinal: int, replicas: int = 3, **overrides: Optional[str]) -> dict[str, str]:
        merged: dict[str, Optional[str]] = {"KAFKA_CFG_REPLICA_LAG_TIME_MAX_MS": LAG_MS, **overrides}
        return super().pod_env(ordinal, replicas, **merged)


@dataclass
class Cluster:
    lab: kraftlab.Lab
    version: str


@pytest.fixture(
    scope="module",
    params=DEFAULT_THEN_SLOW,
    ids=version_id,
)
def cluster(request: pytest.FixtureRequest, dist: Callable[[str], Dist]) -> Iterator[Cluster]:
    version: str = request.param
    installation = dist(version)
    lab = LagLab(installation.home, installation.probe_dir)
    try:
        lab.open()
        yield Cluster(lab, version)
    finally:
        close_labs([lab])


def test_startup_fails_until_the_broker_is_registered(cluster: Cluster, report: Report) -> None:
    """No config yet, then a lone pod (no quorum: its listener never answers) fail startup and live;
    startup passes once the others start and the broker is registered, as Kafka's client sees."""
    lab = cluster.lab
    before = run_probe(lab, 2, "startup")
    assert before.code == 1
    assert "not written yet" in before.line

    lab.start(2)
    kraftlab.wait_until("pod 2's config", lambda: (lab.pod_dir(2) / "server.properties").is_file(), 60, 0.5)
    time.sleep(10)  # the JVM is up and waiting for a quorum that cannot form
    alone = [run_probe(lab, 2, kind, timeout=2) for kind in ("startup", "live")]
    assert all(r.code == 1 for r in alone), alone
    assert all(r.seconds < 2 + 2.5 for r in alone), alone
    report.finding(f"{cluster.version}: probes on a lone pod: {[r.line for r in alone]}")

    start = time.monotonic()
    lab.start(0)
    lab.start(1)
    passed, failed = poll_probe(lab, 2, "startup", until=0, timeout=180)
    report.time(
        f"{cluster.version}: probe startup on pod 2, others started -> pass", time.monotonic() - start
    )
    report.finding(f"{cluster.version}: startup before it passed: {sorted({r.line[:90] for r in failed})}")
    assert "registered" in passed.line
    assert 2 in lab.status().brokers
    lab.wait_ready(VOTERS, VOTERS)


def test_ready_on_a_healthy_cluster(cluster: Cluster, report: Report) -> None:
    """Every replica in its ISR: each pod passes startup, ready and live; one probe's cost is recorded."""
    lab = cluster.lab
    lab.create_topic(TOPIC, 6, 3, min_insync_replicas="2")
    lab.wait_isr(TOPIC, VOTERS)
    for slot in sorted(VOTERS):
        for kind in ("startup", "ready", "live"):
            result = run_probe(lab, slot, kind)
            assert result.code == 0, result
    ready = run_probe(lab, 1, "ready")
    assert "in the ISR of all its 6 partitions" in ready.line
    timed = subprocess.run(
        lab.net.exec_argv(
            lab.net.ns(1),
            ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "kraft_entrypoint", "probe", "ready"],
        ),
        env=lab.pod_env(1),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    wall, rss_kb = timed.stderr.split()[-2:]
    report.finding(f"{cluster.version}: one `probe ready`: {wall} s wall, {int(rss_kb) // 1024} MiB peak RSS")


def test_ready_fails_while_out_of_the_isr(cluster: Cluster, report: Report) -> None:
    """Pod 2 cut off from the leaders' listeners: Kafka drops it from the ISR; ready fails (startup and
    live pass: registered, answering) until, reconnected, it is back in every ISR."""
    lab = cluster.lab
    others = [0, 1]
    iptables(lab, 2, "-A", others)
    try:
        # A follower is out of sync only once its leader has data it lacks; each producer picks its
        # own partition, so produce until one of them is led by another pod.
        def behind() -> bool:
            lab.produce(TOPIC, "while-cut", 20)
            return not in_every_isr(lab, 2)

        kraftlab.wait_until("pod 2 out of an ISR", behind, 90, 0.5)
        failing, _ = poll_probe(lab, 2, "ready", until=1, timeout=30)
        assert "out of the ISR" in failing.line, failing
        assert run_probe(lab, 2, "startup").code == 0
        assert run_probe(lab, 2, "live").code == 0
        for slot in others:
            assert run_probe(lab, slot, "ready").code == 0
        time.sleep(3)
        assert run_probe(lab, 2, "ready").code == 1  # still cut off: still not ready
    finally:
        iptables(lab, 2, "-D", others)
    start = time.monotonic()
    poll_probe(lab, 2, "ready", until=0, timeout=120)
    assert in_every_isr(lab, 2)
    report.time(f"{cluster.version}: reconnected pod 2 -> probe ready passes", time.monotonic() - start)


def cut_from_quorum(lab: kraftlab.Lab, slot: int, action: str, others: list[int]) -> None:
    """Drop the controller traffic (9093) between pod ``slot`` and the others, both ways; its broker
    listener (9092) stays reachable, so it keeps answering clients with what it last knew."""
    for other in others:
        for chain, direction in (("OUTPUT", "-d"), ("INPUT", "-s")):
            drop_rule(lab, slot, action, chain, direction, other, "9093")


def test_ready_fails_on_a_fenced_broker(cluster: Cluster, report: Report) -> None:
    """A broker cut off from the controllers is fenced (Kafka's client, through the others, no longer
    lists it) while its own stale metadata still says all is well: ready fails; reconnected, it
    passes once registered again and back in every ISR."""
    lab = cluster.lab
    leader = lab.status().leader
    victim = max(VOTERS - {leader})
    others = sorted(VOTERS - {victim})
    cut_from_quorum(lab, victim, "-A", others)
    try:
        kraftlab.wait_until(
            f"broker {victim} fenced", lambda: victim not in lab.status(others).brokers, 60, 1.0
        )
        failing = run_probe(lab, victim, "ready")
        assert failing.code == 1, failing
        assert "did not answer through broker" in failing.line, failing
        assert run_probe(lab, victim, "live").code == 0
        report.finding(f"{cluster.version}: ready on a fenced broker: {failing.line}")
    finally:
        cut_from_quorum(lab, victim, "-D", others)
    start = time.monotonic()
    poll_probe(lab, victim, "ready", until=0, timeout=120)
    assert victim in lab.status(others).brokers
    assert in_every_isr(lab, victim)
    report.time(
        f"{cluster.version}: reconnected fenced broker -> probe ready passes", time.monotonic() - start
    )


def test_live_fails_on_a_hung_jvm(cluster: Cluster, report: Report) -> None:
    """SIGSTOP pod 2's JVM: live and ready fail within --timeout; the others stay ready. After SIGCONT,
    ready passes only once Kafka's client sees pod 2 back in every ISR."""
    lab = cluster.lab
    pid = lab.current(2).process.pid
    assert is_kafka_jvm(pid)
    os.kill(pid, signal.SIGSTOP)
    try:
        for kind in ("live", "ready"):
            hung = run_probe(lab, 2, kind, timeout=2)
            assert hung.code == 1, hung
            assert "within 2s" in hung.line, hung
            # It gave up at its own deadline instead of waiting on the JVM: far below the kubelet's
            # timeoutSeconds (10) even with the interpreter's start on a loaded 2-core machine.
            assert hung.seconds < 10, hung
            report.finding(f"{cluster.version}: {kind} on a stopped JVM: exit 1 in {hung.seconds:.1f} s")
        lab.produce(TOPIC, "while-stopped", 50)
        time.sleep(12)  # past broker.session.timeout.ms (9 s): the controller fences it
        for slot in (0, 1):
            # Ready again within a minute: if pod 2 led the quorum, the other two elect a leader
            # first (seen taking longer than 12 s on a loaded machine), and until then the probe
            # rightly says the quorum does not answer.
            poll_probe(lab, slot, "ready", until=0, timeout=60)
    finally:
        os.kill(pid, signal.SIGCONT)
    start = time.monotonic()
    _, failed = poll_probe(lab, 2, "ready", until=0, timeout=120, probe_timeout=2)
    # Kafka's own answer comes from whichever broker the Java client asks; another broker may
    # apply the ISR change a moment after pod 2 did (CI once saw it false right after the probe).
    passed_at = time.monotonic()
    while not in_every_isr(lab, 2):
        assert time.monotonic() < passed_at + 10, f"not in every ISR: {lab.describe_topic(TOPIC)}"
        time.sleep(0.5)
    report.finding(f"{cluster.version}: Kafka's own answer agreed {time.monotonic() - passed_at:.1f} s "
                   "after probe ready passed")
    report.time(f"{cluster.version}: SIGCONT pod 2 -> probe ready passes", time.monotonic() - start)
    report.finding(
        f"{cluster.version}: ready after SIGCONT, before it passed: {sorted({r.line[:80] for r in failed})}"
    )
