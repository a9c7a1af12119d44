"""The pods of a lab and the :class:`Lab` itself: a working directory with the shared
``SHARE_DIR``, a :class:`~kraftlab.network.Network`, and the pods started in it.

A pod is started exactly like a container: ``<python> -m kraft_entrypoint`` with the pod's
environment, in the pod's network namespace and with its own hostname; the entrypoint execs
Kafka, so the started process *is* the Kafka JVM. Each pod runs the installation the lab gives
it (:meth:`Lab.set_home`): a rolling upgrade swaps it between two starts, as a new image would."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .client import ClientMixin
from .network import Network, Topology
from .seed import SeedPod
from .util import LabError, log
from .versions import REPO

#: Heap for each Kafka JVM of the lab (3-4 of them run on a 2-core machine).
DEFAULT_HEAP = "-Xmx384m -Xms384m"


@dataclass
class PodRun:
    """One start of one pod: its process and the files its stdout and stderr went to."""

    ordinal: int
    number: int
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    kafka_home: Path
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


_letters = iter("abcdefghijklmnopqrstuvwxyz" * 40)


def _next_letter() -> str:
    return next(_letters)


class Lab(ClientMixin):
    """A working directory, a :class:`Network` and the pods started in it.

    ``python`` is the interpreter that runs ``-m kraft_entrypoint`` in the pods; the repository
    is put on its ``PYTHONPATH`` so the package under test is the one of this work tree.
    ``kafka_home`` is every pod's installation until :meth:`set_home` gives a pod another one,
    and the client's (``probe_dir`` holds KraftProbe compiled against its kafka-clients).
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
        self.homes: dict[int, Path] = {}

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

    def home(self, ordinal: int) -> Path:
        """The installation pod ``ordinal`` starts on next (its image)."""
        return self.homes.get(ordinal, self.kafka_home)

    def set_home(self, ordinal: int, home: Path) -> None:
        """Give pod ``ordinal`` another installation from its next start on (a new image)."""
        self.homes[ordinal] = home

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
        home = self.home(ordinal)
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
                "KAFKA_HOME": str(home),
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
                self.net.exec_argv(
                    self.net.ns(ordinal),
                    list(argv or self.entrypoint_argv()),
                    hostname=self.topology.pod(ordinal),
                ),
                env=dict(env if env is not None else self.pod_env(ordinal)),
                cwd=str(cwd or pod_dir),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        pod_run = PodRun(ordinal, number, process, out_path, err_path, self.home(ordinal))
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

    # ------------------------------------------------------------------ the seed's entrypoint.sh
    def seed(self, ordinal: int) -> SeedPod:
        """Pod ``ordinal`` as the seed's entrypoint.sh runs it, on the pod's current installation."""
        return SeedPod(ordinal, self.pod_dir(ordinal), self.home(ordinal))

    def start_seed(self, ordinal: int, replicas: int = 3) -> PodRun:
        """Start pod ``ordinal`` with the seed's entrypoint.sh (cwd: the pod's own directory,
        where the script writes its ``server.properties.updated``)."""
        seed = self.seed(ordinal)
        env = seed.env(self.base_env(), self.topology, self.share_dir, self.heap, replicas)
        return self.start(ordinal, env=env, argv=["bash", str(seed.script())])

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
