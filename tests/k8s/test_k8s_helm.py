"""The Helm chart (charts/kraft-entrypoint) on a real Kubernetes: ``helm install`` as the chart's
README tells a user (a cluster id made by the image), 3 pods Ready serving replicated writes, and
``helm upgrade --set replicas=5``, which adds two brokers past the voters without restarting a
pod. Helm is the pinned one of scripts/helm; the cluster, namespace, volumes, image and clients
are kraftlab.k8s's."""

from __future__ import annotations

import time

from kraftlab import container as ch
from kraftlab import k8s as kh

CHART = kh.REPO / "charts" / "kraft-entrypoint"
HELM = kh.REPO / "scripts" / "helm"
RELEASE = "kafka"  # the release name gives the manifests' object names (chart README, "Names")


def helm(*args: str, timeout: float = 600) -> str:
    """scripts/helm on the cluster of scripts/k8s; its stdout."""
    kubeconfig = kh.k8s("kubeconfig", timeout=60).stdout.strip().splitlines()[-1]
    return kh.run([str(HELM), "--kubeconfig", kubeconfig, *args], timeout=timeout).stdout


def server_properties(ns: str, pod: str) -> dict[str, str]:
    text = kh.exec_in(ns, pod, "cat", "/var/lib/kafka/config/server.properties").stdout
    return {k: v for k, _, v in (line.partition("=") for line in text.splitlines())
            if k and not k.startswith("#")}


def write_and_read(client: kh.Client, topic: str, count: int, prefix: int,
                   assignment: str = "") -> None:
    """An RF=3, min.insync.replicas=2 topic (on the given brokers, if any): ``count`` acks=all
    writes, all acknowledged, none failed, all read back by a consumer."""
    if assignment:
        client.create_topic(topic, min_insync=2, assignment=assignment)
    else:
        client.create_topic(topic, partitions=3, replication_factor=3, min_insync=2)
    produced = client.produce(topic, count, prefix=prefix)
    assert len(produced.acked) == count, produced
    assert produced.failed == 0, produced
    read = client.consume(topic, expected=count)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]


def test_helm_install_then_upgrade_past_the_voters(
    namespace: kh.Namespace, image: str, report: kh.Report
) -> None:
    """``helm install`` gives 3 Ready pods with the given cluster id that take acks=all writes;
    ``helm upgrade --set replicas=5`` adds kafka-3 and kafka-4 as brokers only (node ids 3, 4;
    voters still 0-2) that carry a topic of their own, and restarts none of the first three."""
    ns = namespace.name
    namespace.volumes(*[f"data-{RELEASE}-{n}" for n in range(5)])
    cluster_id = kh.new_cluster_id(ch.IMAGE_TAG)

    started = time.monotonic()
    helm("install", RELEASE, str(CHART), "--namespace", ns, "--create-namespace",
         "--set", f"clusterId={cluster_id}")
    kh.wait_ready(ns, RELEASE, 3)
    report.time("helm install: 3 pods Ready", time.monotonic() - started)
    assert kh.EXAMPLE_CLUSTER_ID not in helm("get", "manifest", RELEASE, "--namespace", ns)

    client = kh.Client(ns, image)
    write_and_read(client, "before-upgrade", 500, prefix=1)
    for n in range(3):
        meta = kh.meta_properties(ns, f"kafka-{n}")
        assert (meta["cluster.id"], meta["node.id"]) == (cluster_id, str(n)), meta
    uids = {n: kh.pod_uid(ns, f"kafka-{n}") for n in range(3)}

    started = time.monotonic()
    helm("upgrade", RELEASE, str(CHART), "--namespace", ns, "--reuse-values", "--set", "replicas=5")
    kh.wait_ready(ns, RELEASE, 5)
    report.time("helm upgrade replicas 3 -> 5: 5 pods Ready", time.monotonic() - started)

    assert {n: kh.pod_uid(ns, f"kafka-{n}") for n in range(3)} == uids, "a voter was restarted"
    for n in (3, 4):
        props = server_properties(ns, f"kafka-{n}")
        assert (props["process.roles"], props["node.id"]) == ("broker", str(n)), props
        assert kh.meta_properties(ns, f"kafka-{n}")["cluster.id"] == cluster_id
    assert kh.ids(kh.quorum_field(client.quorum(), "CurrentVoters")) == [0, 1, 2]
    write_and_read(client, "after-upgrade", 500, prefix=2, assignment="3:4:0,4:3:1")
    assert "revision: 2" in helm("status", RELEASE, "--namespace", ns).lower()
