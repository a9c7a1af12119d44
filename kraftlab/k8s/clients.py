"""Kafka clients that run inside the cluster of ``scripts/k8s``: a client pod of the project's
image running Kafka's own tools (``Client``), what a producer reported (``ProducerRun``), and the
brokers' logs followed across restarts (``BrokerLogs``)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from kraftlab.k8s.cluster import KAFKA_PORT, exec_in, kubectl


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
  labels: {{app.kubernetes.io/name: kafka-test-client{labels}}}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  securityContext: {{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}}
  containers:
    - name: client
      image: {image}
      imagePullPolicy: Never
      command: [sleep, infinity]{resources}
      env:
        - {{name: LOG_DIR, value: /tmp}}
        - {{name: KAFKA_HEAP_OPTS, value: -Xmx256m}}{kafka_opts}
"""

#: ``Client(jdk_name_cache=True)``: the JDK's own name cache for the client's JVMs, as in a client
#: image that does not set it (the project's image sets 1 s and 0 s in its java.security).
JDK_NAME_CACHE = "/tmp/jdk-name-cache.security"
JDK_NAME_CACHE_TEXT = "networkaddress.cache.ttl=30\nnetworkaddress.cache.negative.ttl=10\n"

#: VerifiableProducer sets retries=0 before reading its --producer.config: an idempotent producer
#: needs them back.
PRODUCER_PROPERTIES = ("acks=all\nenable.idempotence=true\nretries=2147483647\n"
                       "max.in.flight.requests.per.connection=5\ndelivery.timeout.ms=120000\n"
                       "request.timeout.ms=10000\n")


class Client:
    """A client pod of the project's image in ``ns``, running Kafka's own tools against
    ``bootstrap`` (default: the manifests' ``kafka-client`` Service); ``labels``: more pod labels.

    The tools' JVMs keep a looked-up address 1 s and no failed lookup, as the image sets them
    (a restarted broker keeps its name, not its address); ``jdk_name_cache``: the JDK's 30 s and
    10 s instead, as in a client image that does not set them.

    ``cpu``: a CPU request. Without one the pod is BestEffort, the lowest CPU weight on the node:
    while a broker's JVM starts beside it on this 2-core node, a producer in it went 5 s without
    sending anything. A request gives it a share like a broker's (which the node must have free)."""

    def __init__(self, ns: str, image: str, name: str = "kafka-test-client",
                 bootstrap: Optional[str] = None, labels: Optional[dict[str, str]] = None,
                 jdk_name_cache: bool = False, cpu: Optional[str] = None) -> None:
        self.ns = ns
        self.name = name
        self.bootstrap = bootstrap or f"kafka-client.{ns}.svc.cluster.local:{KAFKA_PORT}"
        # More pod labels (e.g. the network-policy component's kafka-client: "true").
        extra = "".join(f", {key}: {json.dumps(value)}" for key, value in (labels or {}).items())
        opts = (f"\n        - {{name: KAFKA_OPTS, value: -Djava.security.properties={JDK_NAME_CACHE}}}"
                if jdk_name_cache else "")
        resources = f"\n      resources: {{requests: {{cpu: {cpu}}}}}" if cpu else ""
        kubectl("-n", ns, "apply", "-f", "-", stdin=CLIENT_POD.format(
            name=name, image=image, labels=extra, kafka_opts=opts, resources=resources))
        kubectl("-n", ns, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s",
                timeout=150)
        self.sh(f"printf '{PRODUCER_PROPERTIES}' > /tmp/producer.properties")
        if jdk_name_cache:
            kubectl("-n", ns, "exec", "-i", name, "--", "sh", "-c", f"cat > {JDK_NAME_CACHE}",
                    stdin=JDK_NAME_CACHE_TEXT)

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
                attempts: int = 3) -> list[str]:
        """Every value of ``topic`` from the beginning (console consumer; stops after
        ``expected`` values or ``timeout_ms`` without any).

        The first consumer of a cluster creates ``__consumer_offsets`` (50 partitions), and a
        broker that has just restarted loads its share of them: on a loaded node the group can
        take longer than ``timeout_ms`` to form, and the tool then reads nothing. So a read that
        comes back short is made again from the beginning, up to ``attempts`` times; the fullest
        read is returned as it came (its duplicates kept, for callers that count them). Each
        attempt is a new group, so each reads from the beginning."""
        argv = ["kafka-console-consumer.sh", "--bootstrap-server", self.bootstrap, "--topic", topic,
                "--from-beginning", "--max-messages", str(expected), "--timeout-ms", str(timeout_ms)]
        best: list[str] = []
        for _ in range(attempts):
            proc = exec_in(self.ns, self.name, *argv, timeout=timeout_ms / 1000 + 240, check=False)
            # The tool exits 1 on its timeout (fewer values than expected); the values are on stdout.
            read = [line for line in proc.stdout.splitlines() if line]
            best = max(best, read, key=len)
            if len(best) >= expected:
                break
        return best

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
