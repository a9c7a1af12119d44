"""The lab's client side, run in the client namespace: the KraftProbe test client (cluster status,
topics, an acks=all producer, a consumer reading to the end) and the installation's own
command-line tools (kafka-features.sh for the upgrade steps).

:class:`ClientMixin` is part of :class:`kraftlab.Lab`; it uses the lab's network, its client
installation (``kafka_home``, whose kafka-clients the probe was compiled against) and its pods."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Optional

from . import versions
from .util import LabError, run, wait_until

if TYPE_CHECKING:
    from .network import Network, Topology


@dataclass
class Status:
    cluster_id: str
    brokers: set[int]
    leader: int
    epoch: int
    voters: set[int]
    observers: set[int]

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Status:
        kv = dict(line.split("=", 1) for line in lines if "=" in line)

        def ids(key: str) -> set[int]:
            return {int(x) for x in kv.get(key, "").split(",") if x}

        return cls(
            cluster_id=kv["cluster.id"],
            brokers=ids("brokers"),
            leader=int(kv["quorum.leader"]),
            epoch=int(kv["quorum.epoch"]),
            voters=ids("quorum.voters"),
            observers=ids("quorum.observers"),
        )


@dataclass
class Partition:
    partition: int
    leader: int
    replicas: set[int]
    isr: set[int]


@dataclass
class ProduceResult:
    acked: list[str]
    failed: list[str]
    done_line: str


@dataclass(frozen=True)
class Feature:
    """One line of ``kafka-features.sh describe``."""

    name: str
    supported_min: str
    supported_max: str
    finalized: str


class Producer:
    """A KraftProbe producer (acks=all, idempotent) writing until :meth:`stop`."""

    def __init__(self, process: subprocess.Popen[str], errors: IO[str]) -> None:
        self.process = process
        self._errors = errors
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def acked_count(self) -> int:
        return sum(1 for line in list(self.lines) if line.startswith("ACK "))

    def stop(self, timeout: float = 150) -> ProduceResult:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.process.kill()
            raise LabError(f"producer did not finish within {timeout}s") from exc
        self._reader.join(timeout=10)
        self._errors.close()
        done = [line for line in self.lines if line.startswith("DONE")]
        if self.process.returncode != 0 or not done:
            raise LabError(f"producer exited {self.process.returncode}: {self.lines[-5:]}")
        return ProduceResult(
            acked=[line.split()[1] for line in self.lines if line.startswith("ACK ")],
            failed=[line for line in self.lines if line.startswith("ERR ")],
            done_line=done[-1],
        )


#: A value may contain a space: a newer tool prints a level it does not know as "UNKNOWN 1"
#: (4.4's tool for 3.9's SupportedMinVersion 3.0-IV1) or "UNKNOWN [21]" (3.3's for 3.9-IV0).
_FEATURE_LINE = re.compile(
    r"Feature:\s*(\S+)\s+SupportedMinVersion:\s*(.+?)\s+SupportedMaxVersion:\s*(.+?)"
    r"\s+FinalizedVersionLevel:\s*(.+?)\s+Epoch:"
)


class ClientMixin:
    """The probe client and the command-line tools of :class:`kraftlab.Lab`."""

    kafka_home: Path
    probe_dir: Path
    workdir: Path
    net: Network
    topology: Topology

    if TYPE_CHECKING:

        def running(self) -> list[int]: ...

        def check_alive(self, ordinals: Iterable[int]) -> None: ...

        def kafka_started(self, ordinal: int) -> bool: ...

        def tails(self, ordinals: Optional[Iterable[int]] = None) -> str: ...

    @staticmethod
    def _java() -> str:
        return str(Path(os.environ["JAVA_HOME"]) / "bin" / "java") if "JAVA_HOME" in os.environ else "java"

    # ------------------------------------------------------------------ KraftProbe
    def probe_argv(self, *args: str, ns: Optional[str] = None) -> list[str]:
        """KraftProbe with ``args`` in the client namespace (or ``ns``)."""
        return self.net.exec_argv(
            ns or self.net.client_ns,
            [
                self._java(),
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                versions.tools_log4j_opts(self.kafka_home),
                "-cp",
                f"{self.probe_dir}:{self.kafka_home}/libs/*",
                "KraftProbe",
                *args,
            ],
        )

    def probe(self, *args: str, timeout: float = 60) -> list[str]:
        return run(self.probe_argv(*args), timeout=timeout).stdout.splitlines()

    def bootstrap(self, ordinals: Optional[Iterable[int]] = None) -> str:
        return self.topology.bootstrap(range(self.net.pods) if ordinals is None else ordinals)

    def status(self, ordinals: Optional[Iterable[int]] = None) -> Status:
        return Status.parse(self.probe("status", self.bootstrap(ordinals)))

    def wait_ready(
        self,
        brokers: set[int],
        voters: set[int],
        timeout: float = 150,
        on_poll: Optional[Callable[[], None]] = None,
    ) -> Status:
        """Wait until the quorum has a leader among ``voters`` and ``brokers`` are registered."""

        def check() -> Optional[Status]:
            if on_poll is not None:
                on_poll()
            self.check_alive(brokers)
            if not all(self.kafka_started(i) for i in brokers):
                return None
            status = self.status(sorted(brokers))
            ok = status.leader in voters and status.voters == voters and brokers <= status.brokers
            return status if ok else None

        result = wait_until(
            f"quorum of {sorted(voters)} with brokers {sorted(brokers)}",
            check,
            timeout,
            interval=1.0,
            on_timeout=lambda: self.tails(brokers),
        )
        assert isinstance(result, Status)
        return result

    def create_topic(self, topic: str, partitions: int, replication: int, **configs: str) -> None:
        extra = [f"{k.replace('_', '.')}={v}" for k, v in configs.items()]
        self.probe(
            "create-topic", self.bootstrap(self.running()), topic, str(partitions), str(replication), *extra
        )

    def describe_topic(self, topic: str) -> list[Partition]:
        parts = []
        for line in self.probe("describe-topic", self.bootstrap(self.running()), topic):
            kv = dict(item.split("=", 1) for item in line.split())
            parts.append(
                Partition(
                    partition=int(kv["partition"]),
                    leader=int(kv["leader"]),
                    replicas={int(x) for x in kv["replicas"].split(",") if x},
                    isr={int(x) for x in kv["isr"].split(",") if x},
                )
            )
        return parts

    def wait_isr(self, topic: str, members: set[int], timeout: float = 90) -> list[Partition]:
        """Wait until every partition's ISR is its full replica set and contains ``members``."""

        def check() -> Optional[list[Partition]]:
            parts = self.describe_topic(topic)
            ok = parts and all(p.isr == p.replicas and members & p.replicas <= p.isr for p in parts)
            return parts if ok else None

        result = wait_until(f"full ISR on {topic}", check, timeout, interval=1.0)
        assert isinstance(result, list)
        return result

    def _spawn_producer(self, topic: str, prefix: str, count: int, interval_ms: int) -> Producer:
        errors = (self.workdir / f"producer-{prefix}.err").open("w")
        process = subprocess.Popen(
            self.probe_argv("produce", self.bootstrap(), topic, prefix, str(count), str(interval_ms)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        return Producer(process, errors)

    def produce(self, topic: str, prefix: str, count: int, timeout: float = 120) -> ProduceResult:
        """Write ``count`` messages ``<prefix>-<n>`` with acks=all; wait for every outcome."""
        return self._spawn_producer(topic, prefix, count, 0).stop(timeout=timeout)

    def start_producer(self, topic: str, prefix: str, interval_ms: int = 20) -> Producer:
        """A producer that keeps writing (one message per ``interval_ms``) until stopped."""
        return self._spawn_producer(topic, prefix, -1, interval_ms)

    def consume(self, topic: str, timeout: float = 60) -> list[str]:
        lines = self.probe(
            "consume",
            self.bootstrap(self.running()),
            topic,
            str(int(timeout * 1000)),
            timeout=timeout + 30,
        )
        if not any(line.startswith("END ") for line in lines):
            raise LabError(f"consumer did not reach the end of {topic}: {lines[-3:]}")
        return [line[4:] for line in lines if line.startswith("MSG ")]

    # ------------------------------------------------------------------ the installation's tools
    def tool(
        self, home: Path, script: str, *args: str, timeout: float = 90, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``home/bin/<script> args`` in the client namespace (its own default logging)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
        env["KAFKA_HEAP_OPTS"] = "-Xmx128m"
        argv = self.net.exec_argv(self.net.client_ns, [str(home / "bin" / script), *args])
        return run(argv, timeout=timeout, check=check, env=env)

    def features(self, home: Path) -> dict[str, Feature]:
        """``kafka-features.sh describe`` with ``home``'s tool: each feature's supported range
        and finalized level."""
        out = self.tool(
            home, "kafka-features.sh", "--bootstrap-server", self.bootstrap(self.running()), "describe"
        ).stdout
        found = {}
        for match in _FEATURE_LINE.finditer(out):
            found[match.group(1)] = Feature(*match.groups())
        if "metadata.version" not in found:
            raise LabError(f"kafka-features.sh describe printed no metadata.version:\n{out}")
        return found

    def upgrade_metadata(
        self, home: Path, level: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``kafka-features.sh upgrade --metadata <level>`` with ``home``'s tool: only
        metadata.version changes (``--release-version`` of 4.x would also raise kraft.version,
        turning the static quorum dynamic, KAFKA-21426)."""
        return self.tool(
            home,
            "kafka-features.sh",
            "--bootstrap-server",
            self.bootstrap(self.running()),
            "upgrade",
            "--metadata",
            level,
            check=check,
        )
