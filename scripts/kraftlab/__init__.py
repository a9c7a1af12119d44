"""kraftlab: a real Kafka 3.3.2 KRaft cluster whose "pods" are Linux network namespaces.

Shared by the real-Kafka tests (``tests/kafka``) and ``scripts/demo``. Each pod ``kafka-N`` is a
network namespace with its own address on a bridge and an ``/etc/netns/<ns>/hosts`` that maps
every pod's FQDN ``kafka-N.<service>.<namespace>.svc.<domain>``, so Kafka advertises and
resolves the same names as in a StatefulSet. A pod is started exactly like a container:
``ip netns exec <ns> <python> -m kraft_entrypoint`` with the pod's environment; the entrypoint
execs Kafka, so the started process *is* the Kafka JVM. The test client (``KraftProbe.java``,
built on the distribution's own kafka-clients jar) runs in a separate client namespace.

Needs root (``ip netns``). Every name carries a per-run prefix, and :meth:`Lab.close` removes
every process, namespace, bridge, ``/etc/netns`` entry and temporary file it created.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Optional

REPO = Path(__file__).resolve().parents[2]
DIST_SCRIPT = REPO / "scripts" / "kafka-dist"
PROBE_SOURCE = Path(__file__).with_name("KraftProbe.java")
SEED_ENTRYPOINT_DEFAULT = REPO / "tests" / "fixtures" / "seed" / "entrypoint.sh"
NETNS_ETC = Path("/etc/netns")
SUBNET_BASE = "10.213"  # pods get 10.213.<k>.0/24 with a free <k>

#: Heap for each Kafka JVM of the lab (3-4 of them run on a 2-core machine).
DEFAULT_HEAP = "-Xmx384m -Xms384m"


class LabError(RuntimeError):
    """A lab operation failed or a bounded wait ran out; the message says what and shows logs."""


def log(message: str) -> None:
    """Progress to standard error (the demo's and the tests' output)."""
    print(f"kraftlab: {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    timeout: float = 30,
    check: bool = True,
    input_text: Optional[str] = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command (argument list, no shell) with a bounded time; raise LabError on failure."""
    try:
        result = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}") from exc
    if check and result.returncode != 0:
        raise LabError(f"exit {result.returncode}: {' '.join(argv)}\n{result.stdout}{result.stderr}".rstrip())
    return result


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("needs root: network namespaces (ip netns) are created for the pods")


def fetch_dist() -> Path:
    """Run scripts/kafka-dist (its progress goes straight to our stderr); return KAFKA_HOME."""
    result = subprocess.run([str(DIST_SCRIPT)], stdout=subprocess.PIPE, text=True, timeout=900, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise LabError(f"scripts/kafka-dist failed with exit {result.returncode}")
    home = Path(lines[-1])
    if not (home / "bin" / "kafka-server-start.sh").is_file():
        raise LabError(f"scripts/kafka-dist printed {home}, which is not a Kafka installation")
    return home


def compile_probe(kafka_home: Path) -> Path:
    """Compile KraftProbe.java against the distribution's jars, cached by source digest."""
    digest = hashlib.sha256(PROBE_SOURCE.read_bytes()).hexdigest()[:16]
    out = kafka_home.parent / f"kraftprobe-{digest}"
    if (out / "KraftProbe.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        raise LabError("javac (a JDK) is needed to build the test client: apt-get install default-jdk")
    tmp = Path(tempfile.mkdtemp(prefix=".kraftprobe-", dir=kafka_home.parent))
    try:
        run([javac, "-cp", f"{kafka_home}/libs/*", "-d", str(tmp), str(PROBE_SOURCE)], timeout=180)
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "KraftProbe.class").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def tree_digest(root: Path) -> str:
    """Digest of a directory tree: every path, file mode, size and content (byte-identity)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [f"{d}/" for d in dirnames]:
            path = Path(dirpath) / name.rstrip("/")
            st = path.lstat()
            h.update(f"{path.relative_to(root)}\0{st.st_mode:o}\0{st.st_size}\0".encode())
            if path.is_file() and not path.is_symlink():
                h.update(path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Topology:
    """The StatefulSet's names (the seed manifest's by default)."""

    statefulset: str = "kafka"
    service: str = "kafka-svc"
    namespace: str = "kafka-kraft"
    domain: str = "cluster.local"
    broker_port: int = 9092
    controller_port: int = 9093

    def pod(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}"

    def fqdn(self, ordinal: int) -> str:
        return f"{self.pod(ordinal)}.{self.service}.{self.namespace}.svc.{self.domain}"

    def bootstrap(self, ordinals: Iterable[int]) -> str:
        return ",".join(f"{self.fqdn(i)}:{self.broker_port}" for i in ordinals)


def _used_subnets() -> set[str]:
    out = run(["ip", "-o", "-4", "addr", "show"]).stdout
    return set(re.findall(rf"inet ({re.escape(SUBNET_BASE)}\.\d+)\.", out))


class Network:
    """A bridge, one network namespace per pod plus one for the client, and their hosts files."""

    def __init__(self, prefix: str, pods: int, topology: Topology) -> None:
        self.prefix = prefix
        self.pods = pods
        self.topology = topology
        self.bridge = f"{prefix}br"
        self.client_ns = f"{prefix}-client"
        self.subnet = ""
        self._created_ns: list[str] = []
        self._bridge_created = False

    def ns(self, ordinal: int) -> str:
        return f"{self.prefix}-{self.topology.pod(ordinal)}"

    def address(self, ordinal: int) -> str:
        return f"{self.subnet}.{10 + ordinal}"

    @property
    def client_address(self) -> str:
        return f"{self.subnet}.200"

    def all_ns(self) -> list[str]:
        return [self.ns(i) for i in range(self.pods)] + [self.client_ns]

    def hosts_text(self) -> str:
        lines = [
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            # The machine's own name (ip netns exec keeps the UTS namespace): resolvable locally.
            f"127.0.1.1\t{socket.gethostname()}",
        ]
        for i in range(self.pods):
            t = self.topology
            short = f"{t.pod(i)}.{t.service}"
            lines.append(f"{self.address(i)}\t{t.fqdn(i)} {short}.{t.namespace} {short} {t.pod(i)}")
        lines.append(f"{self.client_address}\tkraftlab-client")
        return "\n".join(lines) + "\n"

    def create(self) -> None:
        require_root()
        used = _used_subnets()
        start = os.getpid() % 200
        for k in range(200):
            candidate = f"{SUBNET_BASE}.{(start + k) % 200 + 20}"
            if candidate not in used:
                self.subnet = candidate
                break
        else:
            raise LabError(f"no free {SUBNET_BASE}.x.0/24 subnet")
        ipaddress.ip_network(f"{self.subnet}.0/24")  # sanity
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self._bridge_created = True
        run(["ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge])
        run(["ip", "link", "set", self.bridge, "up"])
        hosts = self.hosts_text()
        addresses = [self.address(i) for i in range(self.pods)] + [self.client_address]
        for index, (ns, addr) in enumerate(zip(self.all_ns(), addresses)):
            run(["ip", "netns", "add", ns])
            self._created_ns.append(ns)
            host_end, ns_end = f"{self.prefix}v{index}", f"{self.prefix}p{index}"
            run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end])
            run(["ip", "link", "set", host_end, "master", self.bridge])
            run(["ip", "link", "set", host_end, "up"])
            run(["ip", "link", "set", ns_end, "netns", ns])
            run(["ip", "-n", ns, "link", "set", ns_end, "name", "eth0"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            etc = NETNS_ETC / ns
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text(hosts)

    def exec_argv(self, ns: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def destroy(self) -> list[str]:
        """Remove everything created; returns the problems met (cleanup goes on past them)."""
        problems: list[str] = []
        for ns in self._created_ns:
            pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            result = run(["ip", "netns", "del", ns], check=False)
            if result.returncode != 0:
                problems.append(f"ip netns del {ns}: {result.stderr.strip()}")
            shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
        self._created_ns.clear()
        if self._bridge_created:
            result = run(["ip", "link", "del", self.bridge], check=False)
            if result.returncode != 0:
                problems.append(f"ip link del {self.bridge}: {result.stderr.strip()}")
            self._bridge_created = False
        return problems


@dataclass
class PodRun:
    """One start of one pod: its process and the files its stdout and stderr went to."""

    ordinal: int
    number: int
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    started: float = field(default_factory=time.monotonic)

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def tail(self, lines: int = 25) -> str:
        out = []
        for path in (self.stderr_path, self.stdout_path):
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            out.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(out)


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


def wait_until(
    what: str,
    check: Callable[[], Optional[object]],
    timeout: float,
    interval: float = 1.0,
    on_timeout: Callable[[], str] = lambda: "",
) -> object:
    """Poll ``check`` until it returns something truthy; raise LabError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            value = check()
        except LabError as exc:
            value, last_error = None, str(exc)
        if value:
            return value
        if time.monotonic() > deadline:
            detail = on_timeout()
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}. {last_error}\n{detail}")
        time.sleep(interval)


class Lab:
    """A working directory, a :class:`Network` and the pods started in it.

    ``python`` is the interpreter that runs ``-m kraft_entrypoint`` in the pods; the repository
    is put on its ``PYTHONPATH`` so the package under test is the one of this work tree.
    """

    def __init__(
        self,
        kafka_home: Path,
        probe_dir: Path,
        *,
        pods: int = 4,
        topology: Optional[Topology] = None,
        python: str = sys.executable,
        prefix: Optional[str] = None,
        heap: str = DEFAULT_HEAP,
        workdir: Optional[Path] = None,
    ) -> None:
        self.kafka_home = kafka_home
        self.probe_dir = probe_dir
        self.topology = topology or Topology()
        self.python = python
        self.heap = heap
        self.prefix = prefix or f"kl{os.getpid()}{_next_letter()}"
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"kraftlab-{self.prefix}-"))
        self.share_dir = self.workdir / "share"
        self.share_dir.mkdir(parents=True, exist_ok=True)
        self.net = Network(self.prefix, pods, self.topology)
        self.runs: dict[int, list[PodRun]] = {}

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> Lab:
        log(f"network: bridge {self.net.bridge}, namespaces {', '.join(self.net.all_ns())}")
        self.net.create()
        log(f"pods on {self.net.subnet}.0/24, workdir {self.workdir}")
        return self

    def close(self, *, keep_workdir: bool = False) -> list[str]:
        problems: list[str] = []
        self.stop_all(timeout=30)
        problems += self.net.destroy()
        if not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return problems

    def __enter__(self) -> Lab:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        problems = self.close()
        if problems:
            log("cleanup problems: " + "; ".join(problems))

    # ------------------------------------------------------------------ pods
    def pod_dir(self, ordinal: int) -> Path:
        path = self.workdir / "pods" / self.topology.pod(ordinal)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def data_dir(self, ordinal: int) -> Path:
        """Where the entrypoint (and the seed) put a pod's log.dirs: $SHARE_DIR/<node id>."""
        return self.share_dir / str(ordinal)

    def entrypoint_argv(self) -> list[str]:
        return [self.python, "-m", "kraft_entrypoint"]

    def base_env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONUNBUFFERED": "1",
        }
        if "JAVA_HOME" in os.environ:
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        return env

    def pod_env(self, ordinal: int, replicas: int = 3, **overrides: Optional[str]) -> dict[str, str]:
        """The container environment of pod ``ordinal`` (the seed manifest's variables)."""
        pod_dir = self.pod_dir(ordinal)
        t = self.topology
        env = self.base_env()
        env.update(
            {
                "HOSTNAME": t.pod(ordinal),
                "REPLICAS": str(replicas),
                "SERVICE": t.service,
                "NAMESPACE": t.namespace,
                "CLUSTER_DOMAIN": t.domain,
                "SHARE_DIR": str(self.share_dir),
                "KAFKA_HOME": str(self.kafka_home),
                # Each pod has its own filesystem in Kubernetes: its generated config and its
                # Kafka logs must not be shared through the common installation directory.
                "KRAFT_CONFIG": str(pod_dir / "server.properties"),
                "LOG_DIR": str(pod_dir / "logs"),
                "KAFKA_HEAP_OPTS": self.heap,
                "CLUSTER_ID_TIMEOUT": "120",
                "PYTHONPATH": str(REPO),
            }
        )
        for key, value in overrides.items():  # None removes a variable
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def start(
        self,
        ordinal: int,
        env: Optional[Mapping[str, str]] = None,
        argv: Optional[Sequence[str]] = None,
        cwd: Optional[Path] = None,
    ) -> PodRun:
        """Start pod ``ordinal`` in its namespace (default: the entrypoint with pod_env())."""
        runs = self.runs.setdefault(ordinal, [])
        current = runs[-1] if runs else None
        if current is not None and current.process.poll() is None:
            raise LabError(f"{self.topology.pod(ordinal)} is already running")
        number = len(runs) + 1
        pod_dir = self.pod_dir(ordinal)
        out_path = pod_dir / f"start-{number}.out"
        err_path = pod_dir / f"start-{number}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                self.net.exec_argv(self.net.ns(ordinal), list(argv or self.entrypoint_argv())),
                env=dict(env if env is not None else self.pod_env(ordinal)),
                cwd=str(cwd or pod_dir),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        pod_run = PodRun(ordinal, number, process, out_path, err_path)
        runs.append(pod_run)
        return pod_run

    def current(self, ordinal: int) -> PodRun:
        runs = self.runs.get(ordinal)
        if not runs:
            raise LabError(f"{self.topology.pod(ordinal)} was never started")
        return runs[-1]

    def running(self) -> list[int]:
        return sorted(i for i, runs in self.runs.items() if runs[-1].process.poll() is None)

    def stop(self, ordinal: int, timeout: float = 90) -> int:
        """SIGTERM the pod's process (Kafka, after the exec) and wait for it to exit."""
        pod_run = self.current(ordinal)
        if pod_run.process.poll() is None:
            pod_run.process.send_signal(signal.SIGTERM)
            try:
                pod_run.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                pod_run.process.kill()
                pod_run.process.wait(timeout=30)
                raise LabError(
                    f"{self.topology.pod(ordinal)} did not stop within {timeout}s of SIGTERM\n"
                    + pod_run.tail()
                ) from exc
        return pod_run.process.returncode

    def stop_all(self, timeout: float = 60) -> None:
        alive = [self.current(i).process for i in self.running()]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in alive:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)

    def wait_exit(self, pod_run: PodRun, timeout: float) -> int:
        try:
            return pod_run.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabError(
                f"{self.topology.pod(pod_run.ordinal)} still running after {timeout}s\n" + pod_run.tail()
            ) from exc

    def tails(self, ordinals: Optional[Iterable[int]] = None) -> str:
        chosen = sorted(self.runs) if ordinals is None else ordinals
        return "\n".join(self.current(i).tail() for i in chosen if i in self.runs)

    def check_alive(self, ordinals: Iterable[int]) -> None:
        for i in ordinals:
            pod_run = self.current(i)
            code = pod_run.process.poll()
            if code is not None:
                raise LabError(f"{self.topology.pod(i)} exited with {code}\n{pod_run.tail()}")

    def kafka_started(self, ordinal: int) -> bool:
        """Kafka's own log line: the server finished starting."""
        return "Kafka Server started" in self.current(ordinal).stdout_text()

    # ------------------------------------------------------------------ client
    def probe_argv(self, *args: str) -> list[str]:
        java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java") if "JAVA_HOME" in os.environ else "java"
        return self.net.exec_argv(
            self.net.client_ns,
            [
                java,
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                f"-Dlog4j.configuration=file:{self.kafka_home}/config/tools-log4j.properties",
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

    # ------------------------------------------------------------------ the seed
    def seed_home(self, ordinal: int) -> Path:
        """A per-pod KAFKA_HOME for the seed's entrypoint.sh, which rewrites
        ``$KAFKA_HOME/config/kraft/server.properties`` in place (in its container each pod has
        its own copy): ``bin/`` and ``config/`` copied, ``libs`` linked to the distribution."""
        home = self.pod_dir(ordinal) / "seed-kafka-home"
        if not home.exists():
            home.mkdir()
            shutil.copytree(self.kafka_home / "bin", home / "bin")
            shutil.copytree(self.kafka_home / "config", home / "config")
            (home / "libs").symlink_to(self.kafka_home / "libs")
        return home

    def seed_script(self, ordinal: int, seed: Path = SEED_ENTRYPOINT_DEFAULT) -> Path:
        """The seed's entrypoint.sh with only its ``/opt/kafka`` path replaced."""
        script = self.pod_dir(ordinal) / "seed-entrypoint.sh"
        text = seed.read_text()
        script.write_text(text.replace("/opt/kafka", str(self.seed_home(ordinal))))
        script.chmod(0o755)
        return script

    def seed_env(self, ordinal: int, replicas: int = 3) -> dict[str, str]:
        """The seed manifest's environment; the pod's Kafka bin/ first on PATH."""
        home = self.seed_home(ordinal)
        env = self.base_env()
        env.update(
            {
                "HOSTNAME": self.topology.pod(ordinal),
                "REPLICAS": str(replicas),
                "SERVICE": self.topology.service,
                "NAMESPACE": self.topology.namespace,
                "SHARE_DIR": str(self.share_dir),
                "PATH": f"{home / 'bin'}:{env['PATH']}",
                "LOG_DIR": str(self.pod_dir(ordinal) / "logs"),
                "KAFKA_HEAP_OPTS": self.heap,
            }
        )
        return env

    def start_seed(self, ordinal: int, replicas: int = 3) -> PodRun:
        """Start pod ``ordinal`` with the seed's entrypoint.sh (cwd: the pod's own directory,
        where the script writes its ``server.properties.updated``)."""
        script = self.seed_script(ordinal)
        return self.start(ordinal, env=self.seed_env(ordinal, replicas), argv=["bash", str(script)])

    # ------------------------------------------------------------------ kept labs
    def save_state(self, path: Path) -> None:
        """Record what :func:`stop_saved` needs to stop this lab from another process."""
        state = {
            "prefix": self.prefix,
            "pods": self.net.pods,
            "subnet": self.net.subnet,
            "workdir": str(self.workdir),
            "pids": {str(i): self.current(i).process.pid for i in self.running()},
            "topology": dataclasses.asdict(self.topology),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2) + "\n")


def stop_saved(path: Path, timeout: float = 60) -> list[str]:
    """Stop a lab recorded by :meth:`Lab.save_state`: SIGTERM its pods (only processes that are
    inside its namespaces), then remove namespaces, bridge, /etc/netns entries and files."""
    state = json.loads(path.read_text())
    net = Network(state["prefix"], int(state["pods"]), Topology(**state["topology"]))
    existing = set(run(["ip", "netns", "list"], check=False).stdout.split())
    net._created_ns = [ns for ns in net.all_ns() if ns in existing]
    net._bridge_created = Path(f"/sys/class/net/{net.bridge}").exists()
    inside = {
        int(pid)
        for ns in net._created_ns
        for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split()
    }
    pids = [int(pid) for pid in state["pids"].values() if int(pid) in inside]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    problems = net.destroy()
    shutil.rmtree(state["workdir"], ignore_errors=True)
    path.unlink()
    return problems


_letters = iter("abcdefghijklmnopqrstuvwxyz" * 40)


def _next_letter() -> str:
    return next(_letters)


def reap_stale(prefix_pattern: str = r"kl(\d+)[a-z]") -> list[str]:
    """Remove namespaces, bridges and /etc/netns entries of labs whose process is gone.

    Only names matching ``prefix_pattern`` (the tests' ``kl<pid><letter>``) are considered;
    a lab of a living process is never touched.
    """
    removed: list[str] = []
    listing = run(["ip", "netns", "list"], check=False).stdout.split("\n")
    for line in listing:
        name = line.split(" ")[0]
        match = re.match(prefix_pattern + "-", name)
        if not match or _pid_alive(int(match.group(1))):
            continue
        for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
        removed.append(name)
    links = run(["ip", "-o", "link", "show", "type", "bridge"], check=False).stdout
    for name in re.findall(r"^\d+: ([^:@]+)", links, flags=re.M):
        match = re.fullmatch(prefix_pattern + "br", name)
        if match and not _pid_alive(int(match.group(1))):
            run(["ip", "link", "del", name], check=False)
            removed.append(name)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        sink[label] = time.monotonic() - start
