"""The real-Kubernetes harness of tests/k8s: the cluster of ``scripts/k8s``, namespaces with their
own volumes, the manifests as a user prepares them, and Kafka clients that run inside the cluster.

Nothing is imitated: the pods are scheduled by kube-scheduler, started by the kubelet in
containerd, find each other through CoreDNS and reach Services through kube-proxy. The API:

* ``kubectl(*args)``: kubectl 1.34 on the cluster (``scripts/k8s kubectl``), checked.
* ``Namespace``: a fresh namespace with hostPath PersistentVolumes pre-bound to its claims;
  ``close()`` deletes the StatefulSets with a short grace period, then the namespace and volumes.
* ``prepare_manifests(dest, namespace, cluster_id)``: a copy of ``k8s/`` with the example cluster
  id replaced (README step 3) and ``kafka-kraft`` renamed to the scenario's namespace.
* ``wait_ready(ns, statefulset, replicas)``: every pod of the StatefulSet Ready; seconds taken.
* ``REPORT``: timings and figures shown in the run's summary.
* ``Client``: a pod of the project's image (``sleep``) running Kafka's own tools:
  ``create_topic``, ``produce`` (VerifiableProducer, ``acks=all``, idempotent), ``consume``
  (console consumer), ``consume_partitions`` (without a group), ``quorum``
  (kafka-metadata-quorum), and ``start_producer`` / ``stop_producer`` for a producer that runs
  while something else happens (``ProducerRun``: acknowledged, failed, the longest window
  without an acknowledgement).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
K8S_SCRIPT = REPO / "scripts" / "k8s"
MANIFESTS = REPO / "k8s"
#: The image line of the manifests; the test image is loaded into containerd under this name.
MANIFEST_IMAGE = "localhost/kafka-kraft:0.1.0"
#: The example id of the manifests' Secret, which the README tells users to replace.
EXAMPLE_CLUSTER_ID = "59AQxW_URq66JWEb-dMvUA"
DATA_DIR = "/var/lib/kafka/data/kraft"
KAFKA_PORT = 9092


def log(message: str) -> None:
    """Progress of the (long) scenarios, visible with ``pytest -s``."""
    print(f"[k8s] {message}", file=sys.stderr, flush=True)


class Report:
    """Timings and figures, logged as they come and printed at the end of the run."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self.figures: list[str] = []

    def time(self, label: str, seconds: float) -> None:
        self.timings.append((label, seconds))
        log(f"{label}: {seconds:.1f}s")

    def figure(self, text: str) -> None:
        self.figures.append(text)
        log(text)


REPORT = Report()


def run(argv: Sequence[str], *, timeout: float = 120, check: bool = True,
        stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    """A bounded subprocess; on failure the assertion shows the command and its output."""
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}\n"
                             f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
    return proc


def k8s(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """``scripts/k8s ARGS`` (up, down, status, load-image, volumes, ...)."""
    return run([str(K8S_SCRIPT), *args], timeout=timeout)


def kubectl(*args: str, timeout: float = 120, check: bool = True,
            stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    """kubectl on the cluster of scripts/k8s."""
    return run([str(K8S_SCRIPT), "kubectl", *args], timeout=timeout, check=check, stdin=stdin)


def cluster_is_up() -> bool:
    """Every piece of scripts/k8s runs (``scripts/k8s status`` exits 0)."""
    return run([str(K8S_SCRIPT), "status"], check=False, timeout=60).returncode == 0


def new_cluster_id(image: str) -> str:
    """A fresh cluster id made by the image's own entrypoint, as the README's step 3 does."""
    # podman's default rlimits exceed what this machine allows (as in the container tests).
    proc = run(["podman", "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=20000:20000",
                "--ulimit", "nproc=32768:32768", "--network", "none", image, "--new-cluster-id"],
               timeout=120)
    cluster_id = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id), proc.stdout
    return cluster_id


def prepare_manifests(dest: Path, namespace: str, cluster_id: str) -> Path:
    """A copy of ``k8s/`` under ``dest`` as a user prepares it: the example cluster id replaced
    (README step 3) and the namespace ``kafka-kraft`` renamed to ``namespace`` (its objects,
    ``namespace:`` fields and DNS names; labels such as ``part-of: kafka-kraft`` and the image
    name stay). Returns the copy's ``k8s`` directory."""
    root = dest / "k8s"
    shutil.copytree(MANIFESTS, root, symlinks=True)
    for path in root.rglob("*.yaml"):
        if path.is_symlink():
            continue
        text = path.read_text()
        new = re.sub(r"^(\s*(?:- )?(?:namespace|name): )kafka-kraft$", rf"\g<1>{namespace}", text,
                     flags=re.MULTILINE)
        new = new.replace(".kafka-kraft.svc", f".{namespace}.svc")
        new = new.replace(f"CLUSTER_ID: {EXAMPLE_CLUSTER_ID}", f"CLUSTER_ID: {cluster_id}")
        path.write_text(new)
    assert EXAMPLE_CLUSTER_ID not in (root / "base" / "kafka.yaml").read_text()
    return root


#: One scenario at a time on the node, across processes: its 2 CPUs fit 8 Kafka pods' requests
#: (250m each), so two test runs sharing the cluster would leave each other's pods Pending.
SCENARIO_LOCK = Path("/run/kraft-entrypoint-k8s/scenario.lock")
_held: list[int] = []


def _lock_cluster() -> None:
    if _held:
        _held.append(_held[-1])
        return
    fd = os.open(SCENARIO_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("waiting for another test run's scenario to finish on the cluster")
        fcntl.flock(fd, fcntl.LOCK_EX)
    _held.append(fd)


def _unlock_cluster() -> None:
    fd = _held.pop()
    if not _held:
        os.close(fd)


class Namespace:
    """A fresh namespace for one scenario, with hostPath volumes pre-bound to its claims. The
    scenario holds the cluster (SCENARIO_LOCK) from here to ``close()``."""

    def __init__(self, prefix: str) -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:5]}"
        _lock_cluster()

    def volumes(self, *claims: str) -> None:
        """One PersistentVolume for each claim (e.g. ``data-kafka-0``) of this namespace."""
        k8s("volumes", self.name, *claims, timeout=120)

    def close(self) -> None:
        """StatefulSets deleted with a 5 s grace period (a namespace deletion would wait out the
        pods' 120 s), then the namespace, then its volumes and their directories."""
        started = time.monotonic()
        try:
            if kubectl("get", "namespace", self.name, check=False).returncode == 0:
                kubectl("-n", self.name, "delete", "statefulset", "--all", "--grace-period=5",
                        "--wait=true", timeout=300, check=False)
                kubectl("-n", self.name, "delete", "pod", "--all", "--grace-period=5",
                        "--wait=true", timeout=300, check=False)
                kubectl("delete", "namespace", self.name, "--wait=true", timeout=300)
            k8s("volumes", "--delete", self.name, timeout=300)
        finally:
            _unlock_cluster()
        log(f"namespace {self.name} deleted ({time.monotonic() - started:.1f}s)")


def wait_ready(ns: str, statefulset: str, replicas: int, timeout: float = 600) -> float:
    """Waits until the StatefulSet has ``replicas`` pods, all Ready and of its current revision;
    returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        proc = kubectl("-n", ns, "get", "statefulset", statefulset, "-o", "json", check=False)
        if proc.returncode == 0:
            status = json.loads(proc.stdout).get("status", {})
            if (status.get("readyReplicas", 0) == replicas and status.get("replicas") == replicas
                    and status.get("updatedReplicas", 0) == replicas
                    and status.get("currentRevision") == status.get("updateRevision")):
                return time.monotonic() - started
        if time.monotonic() > deadline:
            pods = kubectl("-n", ns, "get", "pods", "-o", "wide", check=False).stdout
            unscheduled = kubectl("-n", ns, "get", "events", "--field-selector", "reason=FailedScheduling",
                                  "-o", "custom-columns=OBJECT:.involvedObject.name,MESSAGE:.message",
                                  check=False).stdout
            raise AssertionError(f"{ns}/{statefulset}: not {replicas} Ready after {timeout}s\n{pods}"
                                 f"\nFailedScheduling events:\n{unscheduled}")
        time.sleep(1)


def pod_ready(ns: str, pod: str) -> bool:
    """The pod exists and its Ready condition is True."""
    proc = kubectl("-n", ns, "get", "pod", pod, "-o",
                   "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "True"


def pod_uid(ns: str, pod: str) -> str:
    return kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.metadata.uid}").stdout.strip()


def exec_in(ns: str, pod: str, *argv: str, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kubectl exec`` of an argument list in the pod's first container."""
    return kubectl("-n", ns, "exec", pod, "--", *argv, timeout=timeout, check=check)


def meta_properties(ns: str, pod: str) -> dict[str, str]:
    """The pod's ``meta.properties`` (cluster.id, node.id, version) from its data volume."""
    text = exec_in(ns, pod, "cat", f"{DATA_DIR}/meta.properties").stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


@dataclass(frozen=True)
class ProducerRun:
    """What a producer reported: values acknowledged, sends that failed, and the longest window
    (seconds) between two acknowledgements while it ran."""

    acked: frozenset[str]
    failed: int
    sent: int
    longest_gap: float
    duration: float
    #: Every acknowledgement's time (ms since the epoch, the client pod's clock = the node's).
    ack_times: tuple[int, ...] = ()

    def longest_gap_after(self, since: float) -> float:
        """The longest time (s) without an acknowledgement from ``since`` (epoch seconds) on:
        0 when acknowledgements kept coming at the producer's pace."""
        start = since * 1000
        later = [t for t in self.ack_times if t > start]
        bounds = [start, *later]
        return max((b - a for a, b in zip(bounds, bounds[1:])), default=0) / 1000


CLIENT_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app.kubernetes.io/name: kafka-test-client}}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  securityContext: {{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}}
  containers:
    - name: client
      image: {image}
      imagePullPolicy: Never
      command: [sleep, infinity]
      env:
        - {{name: LOG_DIR, value: /tmp}}
        - {{name: KAFKA_HEAP_OPTS, value: -Xmx256m}}
"""

#: VerifiableProducer sets retries=0 before reading its --producer.config: an idempotent producer
#: needs them back.
PRODUCER_PROPERTIES = ("acks=all\nenable.idempotence=true\nretries=2147483647\n"
                       "max.in.flight.requests.per.connection=5\ndelivery.timeout.ms=120000\n"
                       "request.timeout.ms=10000\n")


class Client:
    """A client pod of the project's image in ``ns``, running Kafka's own tools against
    ``bootstrap`` (default: the manifests' ``kafka-client`` Service)."""

    def __init__(self, ns: str, image: str, name: str = "kafka-test-client",
                 bootstrap: Optional[str] = None) -> None:
        self.ns = ns
        self.name = name
        self.bootstrap = bootstrap or f"kafka-client.{ns}.svc.cluster.local:{KAFKA_PORT}"
        kubectl("-n", ns, "apply", "-f", "-", stdin=CLIENT_POD.format(name=name, image=image))
        kubectl("-n", ns, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s",
                timeout=150)
        self.sh(f"printf '{PRODUCER_PROPERTIES}' > /tmp/producer.properties")

    def sh(self, script: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A POSIX shell script in the client pod (the tools are on its PATH)."""
        return exec_in(self.ns, self.name, "sh", "-c", script, timeout=timeout, check=check)

    def create_topic(self, topic: str, partitions: int = 3, replication_factor: int = 3,
                     min_insync: int = 2, assignment: Optional[str] = None) -> None:
        """A topic with that replication and ``min.insync.replicas`` (or an explicit
        ``--replica-assignment``)."""
        placement = (["--replica-assignment", assignment] if assignment else
                     ["--partitions", str(partitions), "--replication-factor", str(replication_factor)])
        exec_in(self.ns, self.name, "kafka-topics.sh", "--bootstrap-server", self.bootstrap,
                "--create", "--topic", topic, *placement,
                "--config", f"min.insync.replicas={min_insync}", timeout=180)

    def describe_topic(self, topic: str) -> str:
        return exec_in(self.ns, self.name, "kafka-topics.sh", "--bootstrap-server", self.bootstrap,
                       "--describe", "--topic", topic).stdout

    def produce(self, topic: str, count: int, prefix: int, timeout: float = 300) -> ProducerRun:
        """``count`` values ``<prefix>.<n>`` with VerifiableProducer (acks=all, idempotent)."""
        proc = exec_in(self.ns, self.name, "kafka-run-class.sh",
                       "org.apache.kafka.tools.VerifiableProducer",
                       "--bootstrap-server", self.bootstrap, "--topic", topic,
                       "--max-messages", str(count), "--value-prefix", str(prefix), "--acks", "-1",
                       "--producer.config", "/tmp/producer.properties", timeout=timeout)
        return parse_producer_events(proc.stdout)

    def start_producer(self, topic: str, prefix: int, throughput: int = 100) -> None:
        """A VerifiableProducer in the background of the client pod (acks=all, idempotent, at
        ``throughput`` messages/s) until ``stop_producer``; its events go to a file in the pod."""
        self.sh(f"nohup kafka-run-class.sh org.apache.kafka.tools.VerifiableProducer "
                f"--bootstrap-server {self.bootstrap} --topic {topic} --max-messages -1 "
                f"--throughput {throughput} --value-prefix {prefix} --acks -1 "
                f"--producer.config /tmp/producer.properties "
                f"> /tmp/producer-{prefix}.out 2> /tmp/producer-{prefix}.err & "
                f"echo $! > /tmp/producer-{prefix}.pid")

    def producer_acked(self, prefix: int) -> int:
        """Acknowledgements so far of the background producer ``prefix``."""
        proc = self.sh(f"grep -c producer_send_success /tmp/producer-{prefix}.out || true")
        return int(proc.stdout.strip() or 0)

    def stop_producer(self, prefix: int, timeout: float = 180) -> ProducerRun:
        """SIGTERM to the background producer (it flushes and prints ``shutdown_complete``);
        its events parsed."""
        self.sh(f"kill -TERM $(cat /tmp/producer-{prefix}.pid)")
        deadline = time.monotonic() + timeout
        # Ended: it printed its tool_data, or its process is gone or a zombie (the pod's PID 1,
        # sleep, reaps nobody).
        ended = (f"grep -q tool_data /tmp/producer-{prefix}.out || "
                 f"! grep -qs '^State:[[:space:]]*[RSD]' /proc/$(cat /tmp/producer-{prefix}.pid)/status")
        while self.sh(ended, check=False).returncode != 0:
            assert time.monotonic() < deadline, f"producer {prefix} still runs {timeout}s after SIGTERM"
            time.sleep(1)
        out = self.sh(f"cat /tmp/producer-{prefix}.out", timeout=300).stdout
        assert "shutdown_complete" in out, self.sh(f"tail -c 3000 /tmp/producer-{prefix}.err").stdout
        return parse_producer_events(out)

    def consume(self, topic: str, expected: int, timeout_ms: int = 30000,
                group: Optional[str] = None) -> list[str]:
        """Every value of ``topic`` from the beginning (console consumer; stops after
        ``expected`` values or ``timeout_ms`` without any)."""
        argv = ["kafka-console-consumer.sh", "--bootstrap-server", self.bootstrap, "--topic", topic,
                "--from-beginning", "--max-messages", str(expected), "--timeout-ms", str(timeout_ms)]
        if group:
            argv += ["--group", group]
        proc = exec_in(self.ns, self.name, *argv, timeout=timeout_ms / 1000 + 240, check=False)
        # The tool exits 1 on its timeout (fewer values than expected); the values are on stdout.
        return [line for line in proc.stdout.splitlines() if line]

    def consume_partitions(self, topic: str, partitions: int, timeout_ms: int = 15000) -> list[str]:
        """Every value of ``topic``, read partition by partition without a consumer group (no
        group coordinator, so no ``__consumer_offsets`` partition is involved)."""
        values: list[str] = []
        for partition in range(partitions):
            proc = exec_in(self.ns, self.name, "kafka-console-consumer.sh", "--bootstrap-server",
                           self.bootstrap, "--topic", topic, "--partition", str(partition),
                           "--offset", "earliest", "--timeout-ms", str(timeout_ms),
                           timeout=timeout_ms / 1000 + 240, check=False)
            values += [line for line in proc.stdout.splitlines() if line]
        return values

    def quorum(self, what: str = "--status") -> str:
        """``kafka-metadata-quorum.sh describe --status|--replication`` through the brokers."""
        return exec_in(self.ns, self.name, "kafka-metadata-quorum.sh", "--bootstrap-server",
                       self.bootstrap, "describe", what).stdout


def parse_producer_events(stdout: str) -> ProducerRun:
    """VerifiableProducer's JSON lines: successes (their values), errors, the sends it counted
    (``tool_data``), and the acknowledgement times (ms) between its first and last event."""
    acked: set[str] = set()
    times: list[int] = []
    failed = sent = 0
    first = last = None
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        stamp = event.get("timestamp")
        if isinstance(stamp, int):
            first = stamp if first is None else first
            last = stamp
        if event.get("name") == "producer_send_success":
            acked.add(str(event["value"]))
            times.append(int(event["timestamp"]))
        elif event.get("name") == "producer_send_error":
            failed += 1
        elif event.get("name") == "tool_data":
            sent = int(event["sent"])
    bounds = ([first] if first is not None else []) + times + ([last] if last is not None else [])
    gaps = [b - a for a, b in zip(bounds, bounds[1:])]
    return ProducerRun(frozenset(acked), failed, sent, max(gaps, default=0) / 1000,
                       ((last or 0) - (first or 0)) / 1000, tuple(sorted(times)))


class BrokerLogs:
    """The logs of every pod instance of a StatefulSet while something happens to it (a roll
    replaces pods, and a deleted pod's log is gone): polled every ``period`` seconds in a thread,
    the longest text seen per pod UID kept."""

    def __init__(self, ns: str, pods: Sequence[str], period: float = 2.0) -> None:
        self.ns, self.pods, self.period = ns, list(pods), period
        self.texts: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> BrokerLogs:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self._collect()

    def _poll(self) -> None:
        while not self._stop.wait(self.period):
            self._collect()

    def _collect(self) -> None:
        for pod in self.pods:
            uid = kubectl("-n", self.ns, "get", "pod", pod, "-o", "jsonpath={.metadata.uid}",
                          check=False).stdout.strip()
            text = kubectl("-n", self.ns, "logs", pod, timeout=60, check=False).stdout
            key = f"{pod}/{uid}"
            if uid and len(text) > len(self.texts.get(key, "")):
                self.texts[key] = text

    def count(self, needle: str) -> dict[str, int]:
        """Lines containing ``needle``, per pod instance (only those with any)."""
        counts = {key: sum(needle in line for line in text.splitlines()) for key, text in self.texts.items()}
        return {key: n for key, n in counts.items() if n}


def quorum_field(status: str, field: str) -> str:
    """One ``Field: value`` line of ``kafka-metadata-quorum describe --status``."""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == field:
            return value.strip()
    raise AssertionError(f"no {field} in\n{status}")


def ids(value: str) -> list[int]:
    """``[0,1,2]`` (3.3's format) or ``[{"id": 0, ...}, ...]`` (3.9+) as a sorted id list."""
    return sorted(int(m) for m in re.findall(r'(?:^|[\[,{]\s*|"id":\s*)(\d+)', value))


def is_root() -> bool:
    return os.geteuid() == 0
