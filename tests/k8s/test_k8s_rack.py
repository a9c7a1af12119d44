"""k8s/components/rack on a real Kubernetes: k8s/base plus the component, applied as k8s/README.md
("Rack awareness") says, gives 3 Ready pods whose generated server.properties has broker.rack =
the zone of the node each runs on, written by the init container from the API with the
component's ServiceAccount and ClusterRole (get nodes).

The scripts/k8s node carries no zone label of its own: the scenario labels it (and removes the
label at the end, only if it added it). The ClusterRole and ClusterRoleBinding are cluster-wide,
outside the scenario's namespace: they are deleted at the end too (the namespace fixture holds
the cluster's scenario lock, so no other scenario uses them meanwhile)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kraftlab import k8s as kh

REPLICAS = 3
ZONE_LABEL = "topology.kubernetes.io/zone"
TEST_ZONE = "kraft-test-zone-a"
#: The component's cluster-wide objects (k8s/components/rack/rbac.yaml).
CLUSTER_OBJECTS = ("clusterrolebinding/kafka-kraft-kafka-rack", "clusterrole/kafka-kraft-kafka-node-reader")


@pytest.fixture
def zones(namespace: kh.Namespace) -> Iterator[dict[str, str]]:
    """Every node's zone; a node without one is labelled TEST_ZONE here and unlabelled after."""
    nodes = json.loads(kh.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    added: list[str] = []
    found = {}
    try:
        for node in nodes:
            name = node["metadata"]["name"]
            zone = node["metadata"].get("labels", {}).get(ZONE_LABEL)
            if not zone:
                kh.kubectl("label", "node", name, f"{ZONE_LABEL}={TEST_ZONE}")
                added.append(name)
                zone = TEST_ZONE
            found[name] = zone
        yield found
    finally:
        for name in added:
            kh.kubectl("label", "node", name, f"{ZONE_LABEL}-", check=False)
        kh.kubectl("delete", "--ignore-not-found", *CLUSTER_OBJECTS, check=False)


def test_each_broker_rack_is_its_node_zone(
    namespace: kh.Namespace, manifests: Path, image: str, zones: dict[str, str], report: kh.Report
) -> None:
    """3 pods Ready; in each, broker.rack = its node's zone and the rack-aware replica selector;
    the init container's log names the node and the zone."""
    ns = namespace.name
    namespace.volumes(*[f"data-kafka-{n}" for n in range(REPLICAS)])
    started = time.monotonic()
    kh.kubectl("apply", "-k", str(kh.component_overlay(manifests, "rack")))
    kh.wait_ready(ns, "kafka", REPLICAS)
    report.time("kubectl apply -k base + components/rack: 3 pods Ready", time.monotonic() - started)
    for n in range(REPLICAS):
        pod = f"kafka-{n}"
        node = kh.kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}").stdout.strip()
        config = kh.exec_in(ns, pod, "cat", "/var/lib/kafka/config/server.properties").stdout
        props = dict(line.split("=", 1) for line in config.splitlines()
                     if "=" in line and not line.startswith("#"))
        assert props.get("broker.rack") == zones[node], (pod, node, zones)
        assert props["replica.selector.class"] == "org.apache.kafka.common.replica.RackAwareReplicaSelector"
        init_log = kh.kubectl("-n", ns, "logs", pod, "-c", "rack").stdout
        assert f"node {node} is in zone {zones[node]}" in init_log, init_log
    report.figure(f"rack component: broker.rack of kafka-0..{REPLICAS - 1} = the node zones "
                  f"{sorted(set(zones.values()))}")
