"""A lab of two StatefulSets: dedicated controllers (``kafka-controller-N``) and brokers
(``kafka-N``), as ``k8s/overlays/dedicated-controllers`` (and ``-dynamic``) deploy them.

Every pod is a network namespace like in :class:`kraftlab.Lab`; the hosts files map the FQDNs of
both StatefulSets (both use the one headless Service). Inside the lab a pod is addressed by its
*slot*, which is its node id: controller ``kafka-controller-N`` is slot ``N``, broker ``kafka-N``
is slot ``BROKER_ID_OFFSET + N`` (so ``Lab.data_dir(slot)`` is ``$SHARE_DIR/<node id>``, where
the entrypoint puts it). The network is made for the most controllers the test will run, so
adding one is starting a pod that already has its name and address (``kubectl scale``).

Pods get the overlay's environment: ``CONTROLLER_STATEFULSET``, ``CONTROLLER_REPLICAS``,
``BROKER_ID_OFFSET``, ``QUORUM``, no ``REPLICAS``, and the entrypoint's own defaults for the
installation's version (no lab-side template or quorum override, as in the image).

The quorum is read with Kafka's own tool, ``kafka-metadata-quorum.sh describe --status`` and
``--replication`` (through the controllers, ``--bootstrap-controller``, on 3.9+; through the
brokers before), and changed with its ``add-controller`` (run in the new controller's pod with
its config, as the entrypoint's log line says) and ``remove-controller``."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .network import Network, Topology
from .pods import DEFAULT_HEAP, Lab
from .util import LabError, log, run, wait_until
from .versions import kafka_version, version_key

#: Heap of a controller-only JVM (the metadata log of a test cluster is small).
CONTROLLER_HEAP = "-Xmx256m -Xms256m"
#: JVM options of the tools the lab runs: start fast (C1 only, serial GC), as short-lived clients.
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true"
#: The entrypoint's log line for a controller that Kafka cannot add by itself (start.py).
_HINT = re.compile(r"to make it a voter, run once it is up: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class QuorumTopology(Topology):
    """Both StatefulSets' names; ``statefulset`` (inherited) is the brokers'."""

    controller_statefulset: str = "kafka-controller"
    broker_id_offset: int = 100

    def is_controller(self, slot: int) -> bool:
        return slot < self.broker_id_offset

    def broker(self, ordinal: int) -> int:
        """The slot (node id) of broker pod ``kafka-<ordinal>``."""
        return self.broker_id_offset + ordinal

    def pod(self, ordinal: int) -> str:
        if self.is_controller(ordinal):
            return f"{self.controller_statefulset}-{ordinal}"
        return f"{self.statefulset}-{ordinal - self.broker_id_offset}"

    def controller_endpoint(self, slot: int) -> str:
        return f"{self.fqdn(slot)}:{self.controller_port}"


class QuorumNetwork(Network):
    """A :class:`Network` whose pods are the given slots instead of ``0..pods-1``."""

    def __init__(self, prefix: str, slots: Iterable[int], topology: Topology) -> None:
        self.slots = sorted(set(slots))
        super().__init__(prefix, len(self.slots), topology)

    def ordinals(self) -> list[int]:
        return list(self.slots)


@dataclass(frozen=True)
class Voter:
    """A voter as ``describe --status`` lists it (3.9+ adds the directory id and endpoints)."""

    node_id: int
    directory_id: Optional[str]
    endpoints: tuple[str, ...]


@dataclass(frozen=True)
class QuorumStatus:
    """``kafka-metadata-quorum.sh describe --status``."""

    cluster_id: str
    leader: int
    epoch: int
    high_watermark: int
    voters: dict[int, Voter]
    observers: set[int]
    text: str

    @classmethod
    def parse(cls, text: str) -> QuorumStatus:
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and re.fullmatch(r"[A-Za-z]+", key.strip()):
                fields[key.strip()] = value.strip()
        try:
            voters = {v.node_id: v for v in (_voter(item) for item in json.loads(fields["CurrentVoters"]))}
            observers = {_voter(item).node_id for item in json.loads(fields["CurrentObservers"])}
            return cls(
                cluster_id=fields["ClusterId"],
                leader=int(fields["LeaderId"]),
                epoch=int(fields["LeaderEpoch"]),
                high_watermark=int(fields["HighWatermark"]),
                voters=voters,
                observers=observers,
                text=text,
            )
        except (KeyError, ValueError) as exc:
            raise LabError(f"cannot read describe --status ({exc!r}):\n{text}") from exc


def _voter(item: object) -> Voter:
    """An entry of CurrentVoters/CurrentObservers: a bare id (3.3-3.8) or an object (3.9+)."""
    if isinstance(item, int):
        return Voter(item, None, ())
    if isinstance(item, dict) and isinstance(item.get("id"), int):
        directory = item.get("directoryId")
        return Voter(item["id"], str(directory) if directory else None, tuple(item.get("endpoints", ())))
    raise ValueError(f"unexpected quorum member {item!r}")


@dataclass(frozen=True)
class Replica:
    """A row of ``kafka-metadata-quorum.sh describe --replication``."""

    node_id: int
    directory_id: Optional[str]
    log_end_offset: int
    lag: int
    status: str  # Leader, Follower, Observer


def parse_replication(text: str) -> list[Replica]:
    """The rows under the header line (NodeId [DirectoryId] LogEndOffset Lag ... Status)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    header = next((i for i, cols in enumerate(lines) if cols[:1] == ["NodeId"]), None)
    if header is None:
        raise LabError(f"no NodeId header in describe --replication:\n{text}")
    names = lines[header]
    rows = []
    for cols in lines[header + 1 :]:
        if len(cols) != len(names) or not cols[0].isdigit():
            raise LabError(f"unexpected describe --replication row {cols}:\n{text}")
        row = dict(zip(names, cols))
        rows.append(
            Replica(
                node_id=int(row["NodeId"]),
                directory_id=row.get("DirectoryId"),
                log_end_offset=int(row["LogEndOffset"]),
                lag=int(row["Lag"]),
                status=row["Status"],
            )
        )
    return rows


class QuorumLab(Lab):
    """Controllers ``kafka-controller-0..max_controllers-1`` and brokers ``kafka-0..brokers-1``.

    ``controllers`` is ``CONTROLLER_REPLICAS`` (the voters of a static quorum, the initial
    controllers of a dynamic one); ``max_controllers`` how many the test may ever run.
    """

    topology: QuorumTopology

    def __init__(
        self,
        kafka_home: Path,
        probe_dir: Path,
        *,
        quorum: str = "static",
        controllers: int = 3,
        max_controllers: Optional[int] = None,
        brokers: int = 3,
        topology: Optional[QuorumTopology] = None,
        python: str = sys.executable,
        heap: str = DEFAULT_HEAP,
        controller_heap: str = CONTROLLER_HEAP,
    ) -> None:
        chosen = topology or QuorumTopology()
        super().__init__(kafka_home, probe_dir, pods=0, topology=chosen, python=python, heap=heap)
        self.topology = chosen
        self.quorum = quorum
        self.controller_replicas = controllers
        self.max_controllers = max_controllers or controllers
        self.broker_count = brokers
        self.controller_heap = controller_heap
        self.net = QuorumNetwork(self.prefix, [*self.controller_slots(), *self.broker_slots()], chosen)

    # ------------------------------------------------------------------ pods
    def controller_slots(self) -> list[int]:
        return list(range(self.max_controllers))

    def broker_slots(self) -> list[int]:
        return [self.topology.broker(n) for n in range(self.broker_count)]

    def initial_controllers(self) -> list[int]:
        return list(range(self.controller_replicas))

    def pod_env(self, ordinal: int, replicas: int = 3, **overrides: Optional[str]) -> dict[str, str]:
        """The overlay's environment of pod ``ordinal`` (a slot: controller N or 100 + N)."""
        t = self.topology
        controller = t.is_controller(ordinal)
        quorum_env: dict[str, Optional[str]] = {
            "REPLICAS": None,  # the overlay removes it: CONTROLLER_REPLICAS is the quorum
            "CONTROLLER_STATEFULSET": t.controller_statefulset,
            "CONTROLLER_REPLICAS": str(self.controller_replicas),
            "BROKER_ID_OFFSET": str(t.broker_id_offset),
            "QUORUM": self.quorum,
            # The entrypoint picks the template and clears the other quorum key by itself.
            "KRAFT_TEMPLATE": None,
            "KAFKA_CFG_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS": None,
            "KAFKA_HEAP_OPTS": self.controller_heap if controller else self.heap,
        }
        quorum_env.update(overrides)
        return super().pod_env(ordinal, replicas, **quorum_env)

    def start_pods(self, slots: Iterable[int]) -> None:
        """Start pods together (Popen returns at once), like podManagementPolicy: Parallel."""
        for slot in slots:
            self.start(slot)

    def delete_pod(self, slot: int) -> int:
        """Scale-down plus the deletion of the pod's volume: stop it, remove its data."""
        code = self.stop(slot)
        shutil.rmtree(self.data_dir(slot), ignore_errors=True)
        return code

    def close(self, *, keep_workdir: bool = False) -> list[str]:
        """Stop the brokers, then the controllers (a broker's controlled shutdown needs them)."""
        for group in (self.broker_slots(), self.controller_slots()):
            running = [slot for slot in group if slot in self.running()]
            for slot in running:
                self.current(slot).process.send_signal(signal.SIGTERM)
            for slot in running:
                try:
                    self.current(slot).process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.current(slot).process.kill()
                    self.current(slot).process.wait(timeout=30)
        return super().close(keep_workdir=keep_workdir)

    def bootstrap(self, ordinals: Optional[Iterable[int]] = None) -> str:
        """Client bootstrap: the brokers among ``ordinals`` (default: every broker)."""
        chosen = self.broker_slots() if ordinals is None else ordinals
        return self.topology.bootstrap(i for i in chosen if not self.topology.is_controller(i))

    def wait_formed(self, voters: set[int], timeout: float = 180) -> object:
        """Every broker registered and a leader among ``voters``, which are the voter set;
        every started controller still running."""
        controllers = [i for i in self.runs if self.topology.is_controller(i)]
        return self.wait_ready(
            set(self.broker_slots()),
            voters,
            timeout=timeout,
            on_poll=lambda: self.check_alive(i for i in controllers if i in self.running()),
        )

    # ------------------------------------------------------------------ kafka-metadata-quorum.sh
    @property
    def has_bootstrap_controller(self) -> bool:
        """``--bootstrap-controller`` (KIP-919) exists from 3.7 on."""
        return version_key(kafka_version(self.kafka_home)) >= (3, 7, 0)

    def quorum_tool(
        self, *args: str, timeout: float = 90, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``kafka-metadata-quorum.sh`` from the client namespace, through the running
        controllers where the tool can, else through the running brokers."""
        running = self.running()
        if self.has_bootstrap_controller:
            controllers = [i for i in running if self.topology.is_controller(i)]
            where = [
                "--bootstrap-controller",
                ",".join(self.topology.controller_endpoint(i) for i in controllers),
            ]
        else:
            where = ["--bootstrap-server", self.bootstrap(running)]
        argv = [str(self.kafka_home / "bin" / "kafka-metadata-quorum.sh"), *where, *args]
        wrapped = self.net.exec_argv(self.net.client_ns, argv)
        return run(wrapped, timeout=timeout, check=check, env=self.tool_env())

    def describe_status(self) -> QuorumStatus:
        return QuorumStatus.parse(self.quorum_tool("describe", "--status").stdout)

    def describe_replication(self) -> list[Replica]:
        return parse_replication(self.quorum_tool("describe", "--replication").stdout)

    def wait_voters(self, voters: set[int], timeout: float = 120) -> tuple[QuorumStatus, list[Replica]]:
        """Until ``describe --status`` lists exactly ``voters`` with a leader among them and
        ``describe --replication`` shows each of them caught up (lag 0 as a Leader or Follower)."""

        def check() -> Optional[tuple[QuorumStatus, list[Replica]]]:
            rows = self.describe_replication()  # one tool run per poll: a JVM start each
            in_quorum = [r for r in rows if r.status in ("Leader", "Follower")]
            if {r.node_id for r in in_quorum} != voters or any(r.lag for r in in_quorum):
                return None
            status = self.describe_status()
            return (status, rows) if set(status.voters) == voters and status.leader in voters else None

        result = wait_until(
            f"voters {sorted(voters)}, all caught up",
            check,
            timeout,
            interval=0.5,
            on_timeout=lambda: self.quorum_tool("describe", "--status", check=False).stdout,
        )
        assert isinstance(result, tuple)
        return result

    def tool_env(self) -> dict[str, str]:
        """A command-line tool's environment: small heap, and a JVM tuned to start fast (each
        poll of the quorum is a JVM start; the tool's own G1 settings suit a server)."""
        env = self.base_env()
        env["KAFKA_HEAP_OPTS"] = "-Xmx128m"
        env["KAFKA_JVM_PERFORMANCE_OPTS"] = FAST_JVM
        env["LOG_DIR"] = str(self.workdir / "tool-logs")  # not the shared installation's logs/
        return env

    def pod_tool(
        self, slot: int, argv: Sequence[str], timeout: float = 90, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """A command run inside pod ``slot`` (its namespace and hostname), as ``kubectl exec``."""
        wrapped = self.net.exec_argv(self.net.ns(slot), list(argv), hostname=self.topology.pod(slot))
        return run(wrapped, timeout=timeout, check=check, env=self.tool_env())

    def add_controller_hint(self, slot: int) -> Optional[list[str]]:
        """The add-controller command the entrypoint logged for this start, if it logged one."""
        match = _HINT.search(self.current(slot).stderr_text())
        return shlex.split(match.group(1)) if match else None

    def remove_controller(self, node_id: int, directory_id: str) -> subprocess.CompletedProcess[str]:
        """``remove-controller --controller-id N --controller-directory-id D`` (k8s/README.md)."""
        log(f"remove-controller {node_id} (directory {directory_id})")
        return self.quorum_tool(
            "remove-controller", "--controller-id", str(node_id), "--controller-directory-id", directory_id
        )

    def meta_directory_id(self, slot: int) -> str:
        """``directory.id`` of the pod's meta.properties (Kafka 3.7+ writes it at format)."""
        for line in (self.data_dir(slot) / "meta.properties").read_text().splitlines():
            if line.startswith("directory.id="):
                return line.split("=", 1)[1].strip()
        raise LabError(f"no directory.id in {self.data_dir(slot)}/meta.properties")
