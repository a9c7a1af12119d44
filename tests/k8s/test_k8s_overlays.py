"""The kustomize overlays of k8s/overlays and k8s/kafka-shared-volume.yaml on a real Kubernetes:
each applied as k8s/README.md tells a user (the example cluster id replaced), in a fresh namespace
with fresh volumes, and used: the quorum it forms, acks=all writes read back, and what the overlay
adds (a quorum that grows by itself, clients on the host through NodePorts, one shared volume).
The secure overlay: test_k8s_secure.py."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import overlay_support as ov
from overlay_support import image_4x  # noqa: F401  (fixture)

from kraftlab import k8s as kh

CONTROLLERS = [0, 1, 2]
BROKERS = [100, 101, 102]  # BROKER_ID_OFFSET=100 + ordinal
POD_UID = 1000  # runAsUser of the manifests


def readback(client: kh.Client, topic: str, count: int, prefix: int) -> None:
    """An RF=3, min.insync.replicas=2 topic; ``count`` acks=all writes, all acknowledged and read
    back by a consumer."""
    client.create_topic(topic, partitions=3, replication_factor=3, min_insync=2)
    produced = client.produce(topic, count, prefix=prefix)
    assert len(produced.acked) == count, produced
    assert produced.failed == 0, produced
    read = client.consume(topic, expected=count)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]


def server_properties(ns: str, pod: str) -> dict[str, str]:
    text = kh.exec_in(ns, pod, "cat", "/var/lib/kafka/config/server.properties").stdout
    return {k: v for k, _, v in (line.partition("=") for line in text.splitlines())
            if k and not k.startswith("#")}


def test_dedicated_controllers(namespace: kh.Namespace, manifests: Path, image: str,
                               report: kh.Report) -> None:
    """``kubectl apply -k k8s/overlays/dedicated-controllers``: kafka-controller-0..2 (controller
    only) form the quorum, kafka-0..2 (brokers 100..102) observe it; the quorum as seen from a
    controller pod lists voters 0..2; an RF=3 acks=all write on the brokers is read back."""
    ns = namespace.name
    started = time.monotonic()
    ov.apply_overlay(namespace, manifests, "dedicated-controllers",
                     [*ov.claims("kafka-controller", 3), *ov.claims("kafka", 3)])
    kh.wait_ready(ns, "kafka-controller", 3)
    kh.wait_ready(ns, "kafka", 3)
    report.time("dedicated-controllers: 3 controllers + 3 brokers Ready", time.monotonic() - started)

    for n in range(3):
        controller = server_properties(ns, f"kafka-controller-{n}")
        assert (controller["process.roles"], controller["node.id"]) == ("controller", str(n)), controller
        broker = server_properties(ns, f"kafka-{n}")
        assert (broker["process.roles"], broker["node.id"]) == ("broker", str(100 + n)), broker
    # Kafka 3.3's tool reaches the quorum through a broker (--bootstrap-controller is 3.7+).
    status = ov.wait_for("a quorum leader seen from kafka-controller-0", lambda: leader_status(
        ns, "kafka-controller-0", "--bootstrap-server", f"kafka-client.{ns}.svc.cluster.local:9092"), 180)
    assert kh.ids(kh.quorum_field(status, "CurrentVoters")) == CONTROLLERS, status
    assert int(kh.quorum_field(status, "LeaderId")) in CONTROLLERS, status
    assert set(BROKERS) <= set(kh.ids(kh.quorum_field(status, "CurrentObservers"))), status

    client = kh.Client(ns, image)
    readback(client, "dedicated", 1000, prefix=11)
    described = client.describe_topic("dedicated")
    replicas = {int(r) for r in re.findall(r"Replicas: ([\d,]+)", described) for r in r.split(",")}
    assert replicas == set(BROKERS), described


def leader_status(ns: str, pod: str, *bootstrap: str) -> str | None:
    """``kafka-metadata-quorum.sh describe --status`` in ``pod`` once it names a leader."""
    proc = ov.tool(ns, pod, "kafka-metadata-quorum.sh", *bootstrap, "describe", "--status",
                   timeout=120, check=False)
    if proc.returncode != 0 or not re.search(r"^LeaderId:\s+\d+", proc.stdout, re.MULTILINE):
        return None
    return proc.stdout


def controller_voters(ns: str) -> list[int]:
    """CurrentVoters as k8s/README.md checks them: the tool in kafka-controller-0 against its own
    controller port."""
    status = leader_status(ns, "kafka-controller-0", "--bootstrap-controller", "localhost:9093")
    return kh.ids(kh.quorum_field(status, "CurrentVoters")) if status else []


def test_dedicated_controllers_dynamic_grows_to_five(namespace: kh.Namespace, manifests: Path,
                                                     image_4x: str, report: kh.Report) -> None:  # noqa: F811
    """``kubectl apply -k k8s/overlays/dedicated-controllers-dynamic`` (its Kafka 4.4.0 image):
    voters 0..2 and acks=all writes; ``kubectl scale statefulset/kafka-controller --replicas=5``:
    kafka-controller-3 and -4 become voters by themselves (auto-join), no command run for them."""
    ns = namespace.name
    started = time.monotonic()
    ov.apply_overlay(namespace, manifests, "dedicated-controllers-dynamic",
                     [*ov.claims("kafka-controller", 5), *ov.claims("kafka", 3)])
    kh.wait_ready(ns, "kafka-controller", 3)
    kh.wait_ready(ns, "kafka", 3)
    report.time("dedicated-controllers-dynamic: 3 controllers + 3 brokers Ready", time.monotonic() - started)
    restarted = {pod: n for pod, n in ov.restarts(ns, "app.kubernetes.io/name=kafka").items() if n}
    report.figure(f"dedicated-controllers-dynamic (Kafka 4.4.0), all pods applied at once: "
                  f"container restarts before Ready {restarted or 'none'}")
    config = server_properties(ns, "kafka-controller-0")
    assert "controller.quorum.bootstrap.servers" in config, config
    assert "controller.quorum.voters" not in config, config
    assert ov.wait_for("voters 0..2", lambda: controller_voters(ns) == CONTROLLERS, 180)

    client = kh.Client(ns, image_4x)
    readback(client, "dynamic", 500, prefix=12)

    started = time.monotonic()
    kh.kubectl("-n", ns, "scale", "statefulset/kafka-controller", "--replicas=5")
    kh.wait_ready(ns, "kafka-controller", 5)
    ready = time.monotonic() - started
    ov.wait_for("voters 0..4 by themselves", lambda: controller_voters(ns) == [0, 1, 2, 3, 4], 300)
    report.time("kafka-controller scaled 3 -> 5: pods Ready", ready)
    report.time("kafka-controller scaled 3 -> 5: five voters (auto-join)", time.monotonic() - started)
    for n in (3, 4):
        assert "controller.quorum.voters" not in server_properties(ns, f"kafka-controller-{n}")
    replication = ov.tool(ns, "kafka-controller-0", "kafka-metadata-quorum.sh", "--bootstrap-controller",
                          "localhost:9093", "describe", "--replication").stdout
    rows = {int(m.group(1)): m.group(2) for m in
            re.finditer(r"^(\d+)\s+\S+\s+\d+\s+\d+\s+\S+\s+\S+\s+(Leader|Follower|Observer)", replication,
                        re.MULTILINE)}
    voters = sorted(n for n, role in rows.items() if role in ("Leader", "Follower"))
    assert voters == [0, 1, 2, 3, 4], replication
    readback(client, "after-growth", 300, prefix=13)


def test_external_nodeport_from_the_host(namespace: kh.Namespace, manifests: Path, image: str,
                                         report: kh.Report, tmp_path: Path) -> None:
    """``kubectl apply -k k8s/overlays/external-nodeport``: Kafka 3.3.2's console tools on this
    host (no pod) bootstrap through one NodePort of the node address and reach every broker at the
    <node IP>:<30092+N> it advertises: acks=all writes to partitions led by each broker, read back.
    (The overlay is k8s/base plus the external-nodeport component: it proves the base as well.)"""
    ns = namespace.name
    started = time.monotonic()
    ov.apply_overlay(namespace, manifests, "external-nodeport", ov.claims("kafka", 3))
    kh.wait_ready(ns, "kafka", 3)
    report.time("external-nodeport: 3 pods Ready", time.monotonic() - started)
    # The README's way to the addresses: each pod's status.hostIP.
    listed = kh.kubectl("-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=broker", "-o",
                        "jsonpath={range .items[*]}{.metadata.name} {.status.hostIP}{\"\\n\"}{end}").stdout
    host_ips = dict(line.split() for line in ov.lines(listed))
    assert set(host_ips) == {"kafka-0", "kafka-1", "kafka-2"}, listed
    advertised = {n: f"{host_ips[f'kafka-{n}']}:{30092 + n}" for n in range(3)}

    host = ov.HostKafka(tmp_path)
    # kafka-broker-api-versions.sh: one line per broker it reached, under its advertised address.
    versions = host.run("kafka-run-class.sh", "kafka.admin.BrokerApiVersionsCommand",
                        "--bootstrap-server", advertised[0], timeout=120).stdout
    seen = {int(m.group(2)): m.group(1)
            for m in re.finditer(r"^(\S+) \(id: (\d+) rack", versions, re.MULTILINE)}
    assert seen == advertised, versions

    host.run("kafka-topics.sh", "--bootstrap-server", advertised[1], "--create", "--topic", "outside",
             "--replica-assignment", "0:1:2,1:2:0,2:0:1", "--config", "min.insync.replicas=2")
    records = [f"key-{i}\tvalue-{i}" for i in range(300)]
    started = time.monotonic()
    host.run("kafka-console-producer.sh", "--bootstrap-server", advertised[2], "--topic", "outside",
             "--producer-property", "acks=all", "--producer-property", "enable.idempotence=true",
             # --sync waits for each acknowledgement; the console producer's linger.ms default
             # (1000, its --timeout) would then add a second to every record: 300 s for 300
             "--producer-property", "linger.ms=0",
             "--property", "parse.key=true", "--property", "key.separator=\t", "--sync",
             stdin="".join(r + "\n" for r in records))
    out = host.run("kafka-console-consumer.sh", "--bootstrap-server", advertised[0], "--topic", "outside",
                   "--from-beginning", "--max-messages", str(len(records)), "--timeout-ms", "60000",
                   "--property", "print.partition=true", timeout=180, check=False).stdout
    report.time("external-nodeport: 300 acks=all writes and their read-back from the host",
                time.monotonic() - started)
    read = [line.split("\t") for line in ov.lines(out)]
    assert sorted(value for _, value in read) == sorted(r.split("\t")[1] for r in records), out[-2000:]
    partitions = {part for part, _ in read}
    assert partitions == {"Partition:0", "Partition:1", "Partition:2"}, partitions
    leaders = host.run("kafka-topics.sh", "--bootstrap-server", advertised[2], "--describe",
                       "--topic", "outside").stdout
    assert sorted(re.findall(r"Leader: (\d+)", leaders)) == ["0", "1", "2"], leaders


SHARED_PV = re.compile(r"(kind: PersistentVolume\nmetadata:\n  name: )kafka-shared\n(  labels:\n)")


def test_shared_volume(namespace: kh.Namespace, manifests: Path, image: str, report: kh.Report,
                       tmp_path: Path) -> None:
    """``kubectl apply -f k8s/kafka-shared-volume.yaml`` with its hostPath ReadWriteMany volume on
    this single node (its own directory and PV name per scenario), the directory made on the node
    first and owned by the pods' uid 1000: 3 pods Ready on one volume, the cluster id created there
    once by one pod and used by all, acks=all writes read back."""
    ns = namespace.name
    share = tmp_path / "kafka-share"
    # "create the directory on the node first" (the manifest): owned by the pods' user, since
    # fsGroup does not apply to hostPath and the kubelet's DirectoryOrCreate makes it root 0755.
    share.mkdir()
    os.chown(share, POD_UID, POD_UID)
    path = manifests / "kafka-shared-volume.yaml"
    label = f"    kraft-entrypoint.local/namespace: {ns}\n"  # Namespace.close deletes the PV
    text, renamed = SHARED_PV.subn(rf"\g<1>{ns}-kafka-shared\n\g<2>{label}", path.read_text())
    assert renamed == 1, "the PersistentVolume of kafka-shared-volume.yaml changed shape"
    text = text.replace("path: /mnt/data/kafka\n", f"path: {share}\n")
    path.write_text(text)
    assert str(share) in text

    started = time.monotonic()
    kh.kubectl("apply", "-f", str(path))
    kh.wait_ready(ns, "kafka", 3)
    report.time("kafka-shared-volume.yaml: 3 pods Ready", time.monotonic() - started)
    claim = kh.kubectl("-n", ns, "get", "pvc", "kafka-shared", "-o",
                       "jsonpath={.spec.volumeName} {.status.accessModes[0]}").stdout.split()
    assert claim == [f"{ns}-kafka-shared", "ReadWriteMany"], claim

    cluster_id = (share / "cluster_id").read_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id), cluster_id
    assert sorted(p.name for p in share.iterdir()) == ["0", "1", "2", "cluster_id"]
    created = []
    for n in range(3):
        meta = dict(line.split("=", 1) for line in
                    kh.exec_in(ns, f"kafka-{n}", "cat", f"/mnt/kafka/{n}/meta.properties").stdout.splitlines()
                    if "=" in line and not line.startswith("#"))
        assert (meta["cluster.id"], meta["node.id"]) == (cluster_id, str(n)), meta
        logs = kh.kubectl("-n", ns, "logs", f"kafka-{n}").stdout
        line = next(line for line in logs.splitlines() if f"cluster id {cluster_id} from" in line)
        created += [n] if "(created here)" in line else []
    assert len(created) == 1, f"cluster id created by {created}, not by exactly one pod"
    readback(kh.Client(ns, image), "shared", 1000, prefix=14)

