"""k8s/components/network-policy enforced on a real Kubernetes: the cluster of scripts/k8s with
`scripts/k8s network-policies` (kube-network-policies, which enforces NetworkPolicy with
nftables and an nfqueue; the bridge CNI alone enforces nothing). k8s/base plus the component,
as a user adds it to an overlay: the 3 pods get Ready under the policy (their quorum, replication,
probes and DNS go through), a pod with the client label the docs name (kafka-client: "true")
writes and reads back, one without it cannot even open a TCP connection to a broker port, nor
can the labelled one reach the controller port. The control: with the NetworkPolicy deleted,
the unlabelled pod connects, so the refusal was the policy's.

The enforcement is cluster-wide (a DaemonSet in kube-system): turned on here if it was not, and
off again at the end in that case (the namespace fixture holds the cluster's scenario lock)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kraftlab import k8s as kh

# Slow tier (scripts/test --full): it builds kube-network-policies from the Go module proxy the
# first time (~5 min of Go on 2 cores), which the default run's time budget leaves out.
pytestmark = pytest.mark.slow

REPLICAS = 3
CLIENT_LABEL = {"kafka-client": "true"}  # k8s/README.md, "Network policy"
BROKER_PORT, CONTROLLER_PORT = 9092, 9093
#: A TCP connection attempt from a pod: a dropped SYN is still unanswered after this long.
CONNECT_SECONDS = 10


@pytest.fixture
def enforced(namespace: kh.Namespace, report: kh.Report) -> Iterator[None]:
    """kube-network-policies running on the node (``scripts/k8s network-policies``)."""
    was_on = kh.kubectl("-n", "kube-system", "get", "daemonset", "kube-network-policies",
                        check=False).returncode == 0
    started = time.monotonic()
    kh.k8s("network-policies", timeout=1800)
    report.time("scripts/k8s network-policies" + (" (already on)" if was_on else ""),
                time.monotonic() - started)
    try:
        yield
    finally:
        if not was_on:
            kh.k8s("network-policies", "off", timeout=300)


def connect(client: kh.Client, host: str, port: int) -> str:
    """A TCP connection from the client pod: "open", "timeout" (no answer: dropped) or
    "refused" (bash's /dev/tcp, bounded by coreutils' timeout)."""
    proc = client.sh(f"timeout {CONNECT_SECONDS} bash -c 'exec 3<>/dev/tcp/{host}/{port}'",
                     timeout=CONNECT_SECONDS + 60, check=False)
    return {0: "open", 124: "timeout"}.get(proc.returncode, "refused")


def wait_for_verdict(client: kh.Client, host: str, port: int, verdict: str, seconds: float = 120) -> str:
    """Connects until the verdict is ``verdict`` (the controller applies a policy change a moment
    after the API has it); returns the last one."""
    deadline = time.monotonic() + seconds
    while True:
        seen = connect(client, host, port)
        if seen == verdict or time.monotonic() > deadline:
            return seen
        time.sleep(2)


def test_network_policy_lets_in_only_clients_and_the_cluster(
    namespace: kh.Namespace, manifests: Path, image: str, enforced: None, report: kh.Report
) -> None:
    """3 pods Ready under the policy; the labelled client writes RF=3 acks=all and reads back; an
    unlabelled pod's connections to kafka-0's broker port go unanswered, and so do the labelled
    client's to its controller port; without the NetworkPolicy the unlabelled pod connects."""
    ns = namespace.name
    namespace.volumes(*[f"data-kafka-{n}" for n in range(REPLICAS)])
    started = time.monotonic()
    kh.kubectl("apply", "-k", str(kh.component_overlay(manifests, "network-policy")))
    kh.wait_ready(ns, "kafka", REPLICAS)
    report.time("kubectl apply -k base + components/network-policy (enforced): 3 pods Ready",
                time.monotonic() - started)
    assert kh.kubectl("-n", ns, "get", "networkpolicy", "kafka", check=False).returncode == 0

    allowed = kh.Client(ns, image, name="kafka-test-client", labels=CLIENT_LABEL)
    other = kh.Client(ns, image, name="unlabelled-client")
    kafka0 = kh.kubectl("-n", ns, "get", "pod", "kafka-0", "-o", "jsonpath={.status.podIP}").stdout.strip()
    assert kafka0, "kafka-0 has no pod IP"

    started = time.monotonic()
    allowed.create_topic("netpol", partitions=3, replication_factor=3, min_insync=2)
    produced = allowed.produce("netpol", 300, prefix=1)
    assert len(produced.acked) == 300, produced
    assert produced.failed == 0, produced
    read = allowed.consume("netpol", expected=300)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]
    report.time("labelled client: RF=3 acks=all 300 writes read back", time.monotonic() - started)
    assert connect(allowed, kafka0, BROKER_PORT) == "open"

    refused = {"unlabelled -> broker": connect(other, kafka0, BROKER_PORT),
               "labelled -> controller": connect(allowed, kafka0, CONTROLLER_PORT)}
    assert refused == {"unlabelled -> broker": "timeout", "labelled -> controller": "timeout"}, refused

    # The control: the same connection once the NetworkPolicy is gone.
    kh.kubectl("-n", ns, "delete", "networkpolicy", "kafka")
    started = time.monotonic()
    assert wait_for_verdict(other, kafka0, BROKER_PORT, "open") == "open"
    assert connect(allowed, kafka0, CONTROLLER_PORT) == "open"
    report.time("NetworkPolicy deleted: the unlabelled pod connects", time.monotonic() - started)
    report.figure(f"network-policy component enforced (kube-network-policies): {refused} with the "
                  "policy; both open without it; the labelled client wrote and read 300 values")
