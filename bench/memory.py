"""M1: a pod's memory limit against its heap, under load. One container of the image per case
(podman ``--memory``, no swap), as a single-voter pod; when Kafka has started, a second container in
the same network namespace (its own cgroup, so its JVM is not counted against the broker's limit)
runs Kafka's ProducerPerformance (what ``kafka-producer-perf-test.sh`` runs; 1 KiB records,
``acks=1``, unthrottled) for a fixed time. Recorded per case: OOM-killed or not (podman's
``State.OOMKilled``), the container's exit code, its peak memory (the cgroup's), records
acknowledged.

Cases: Kafka's own default heap (``-Xms1G -Xmx1G``, what the seed's manifest ran with: it set no
heap) on a 768 MiB limit; the fixed heap our manifests set before (``-Xms512m -Xmx512m``) on the
same limit; the heap from the limit (``MEMORY_LIMIT`` from the downward API, ``HEAP_PERCENT`` 50)
on 768 MiB and on 1 GiB.

Standalone (root, podman): ``.venv/bin/python -m bench.memory [--image TAG] [--seconds 90]``;
the image defaults to the container tests' (built when missing).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bench.report import Report, standalone
from kraftlab import container as h

RESULTS = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    limit_mib: int
    env: dict[str, str]


_HEAPS = (
    ("Kafka's default heap -Xms1G -Xmx1G (the seed)", 768, {"KAFKA_HEAP_OPTS": "-Xms1G -Xmx1G"}),
    ("old fixed heap -Xms512m -Xmx512m", 768, {"KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m"}),
    ("heap from the limit (MEMORY_LIMIT)", 768, {"MEMORY_LIMIT": "768Mi"}),
    ("heap from the limit (MEMORY_LIMIT)", 1024, {"MEMORY_LIMIT": "1Gi"}),
)
#: The same heaps touched in full at start (-XX:+AlwaysPreTouch): the memory a heap holds once
#: the load has filled it, which a short producer load does not reach (G1 collects its young
#: regions first), but days of traffic, fetch bursts and compaction do.
PRETOUCH = {"KAFKA_OPTS": "-XX:+AlwaysPreTouch"}
CASES = (
    *(Case(what, limit, env) for what, limit, env in _HEAPS),
    *(Case(f"{what}, heap touched in full", limit, {**env, **PRETOUCH}) for what, limit, env in _HEAPS),
)


@dataclass(frozen=True)
class Outcome:
    oom_killed: bool
    exit_code: Optional[int]  # None: still running at the end
    peak_mib: float  # the cgroup's peak usage, page cache included (reclaimable)
    rss_mib: float  # the largest anonymous memory seen (the JVM's own; what an OOM kill counts)
    acked: int
    heap_line: str


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=check)


def wait_started(name: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = podman("logs", name, check=False)
        text = logs.stdout + logs.stderr
        if "Kafka Server started" in text or "] started (kafka.server" in text:
            return text
        if not _running(name):
            raise RuntimeError(f"{name} exited before it started:\n{text[-3000:]}")
        time.sleep(1)
    raise RuntimeError(f"{name}: no 'Kafka Server started' within {timeout} s")


def _running(name: str) -> bool:
    return podman("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip() != "false"


def _memory(name: str) -> tuple[float, float]:
    """The container cgroup's peak usage and its anonymous memory now, MiB (cgroup v2 or v1)."""
    inspected = podman("inspect", "--format", "{{.State.CgroupPath}}", name, check=False)
    cgroup = inspected.stdout.strip().lstrip("/")
    v1 = (Path("/sys/fs/cgroup/memory"), "memory.max_usage_in_bytes", "total_rss")
    for root, peak_file, anon_key in ((Path("/sys/fs/cgroup"), "memory.peak", "anon"), v1):
        directory = root / cgroup
        if cgroup and (directory / peak_file).is_file():
            stat = dict(line.split() for line in (directory / "memory.stat").read_text().splitlines())
            return int((directory / peak_file).read_text()) / MIB, int(stat.get(anon_key, 0)) / MIB
    return float("nan"), float("nan")


def run_case(image: str, case: Case, seconds: int) -> Outcome:
    name = f"kraft-bench-mem-{uuid.uuid4().hex[:6]}"
    load = f"{name}-load"
    limit = f"{case.limit_mib}m"
    try:
        podman("run", "--detach", "--name", name, "--memory", limit, "--memory-swap", limit,
                *h.single_pod_options(case.env), image)
        try:
            text = wait_started(name)
        except RuntimeError:
            return _ended(name, 0.0, 0.0, 0)  # killed before it started (the heap touched in full)
        heap = next((line for line in text.splitlines() if "heap: " in line), "")
        peak_during, rss = 0.0, 0.0
        # the load: its own container (cgroup) in the pod's network namespace; podman refuses
        # --add-host there, so the pod's name comes from a hosts file of its own
        hosts = Path(tempfile.mkdtemp(prefix="kraft-bench-mem-")) / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n127.0.0.1 {h.SINGLE_POD_FQDN} kafka-0\n")
        producer = subprocess.Popen(
            ["podman", "run", "--rm", "--name", load, *h.PODMAN_RUN_OPTS, "--network", f"container:{name}",
             "--volume", f"{hosts}:/etc/hosts:ro",
             "--entrypoint", "/opt/kafka/bin/kafka-run-class.sh", image,
             "org.apache.kafka.tools.ProducerPerformance", "--topic", "load", "--num-records", "100000000",
             "--record-size", "1024", "--throughput", "-1",
             "--producer-props", f"bootstrap.servers={h.SINGLE_POD_FQDN}:9092", "acks=1",
             "batch.size=262144", "linger.ms=5", "buffer.memory=67108864"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and producer.poll() is None and _running(name):
            peak, anon = _memory(name)
            peak_during, rss = max(peak_during, peak), max(rss, anon)
            time.sleep(2)
        podman("rm", "--force", "--time", "0", load, check=False)
        output, _ = producer.communicate(timeout=120)
        # its 5-second windows ("N records sent, ..."; the final summary, with percentiles, is not
        # printed when the run is cut short, and is left out when it is)
        acked = sum(int(line.split()[0]) for line in output.splitlines()
                    if "records sent" in line and "50th" not in line and line.split()[0].isdigit())
        return _ended(name, peak_during, rss, acked, heap)
    finally:
        podman("rm", "--force", "--time", "0", load, check=False)
        podman("rm", "--force", "--time", "0", name, check=False)


def _ended(name: str, peak: float, rss: float, acked: int, heap: str = "") -> Outcome:
    state = podman("inspect", "--format", "{{.State.OOMKilled}} {{.State.Running}} {{.State.ExitCode}}",
                    name).stdout.split()
    if not heap:
        logs = podman("logs", name, check=False)
        heap = next((line for line in (logs.stdout + logs.stderr).splitlines() if "heap: " in line), "")
    running = state[1] == "true"
    return Outcome(state[0] == "true", None if running else int(state[2]), peak, rss, acked, heap)


def run(report: Report, image: str, seconds: int, cases: Sequence[Case] = CASES) -> None:
    for case in cases:
        print(f"\n== M1 {case.name}, limit {case.limit_mib} MiB, {seconds} s of load", file=sys.stderr,
              flush=True)
        out = run_case(image, case, seconds if PRETOUCH["KAFKA_OPTS"] not in case.env.values() else 30)
        ended = "still running" if out.exit_code is None else f"exited {out.exit_code}"
        report.line(f"M1 {case.name}, limit {case.limit_mib} MiB",
                    f"OOM-killed {'YES' if out.oom_killed else 'no'}, {ended}, JVM (anonymous) memory up to "
                    f"{out.rss_mib:.0f} MiB, cgroup peak with page cache {out.peak_mib:.0f} MiB, "
                    f"{out.acked} records acknowledged")
        if out.heap_line:
            report.line(f"M1 {case.name}, {case.limit_mib} MiB: entrypoint", out.heap_line.strip()[:150])


def ensure_image(tag: str) -> str:
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    h.ensure_base_image()
    dist = h.kafka_dist()
    with tempfile.TemporaryDirectory(prefix="kraft-bench-tarball-") as scratch:
        tarball, digest = h.pack_tarball(dist, Path(scratch))
        with h.file_server(tarball.parent) as url:
            h.build_image(tag, kafka_url=f"{url}/{h.TARBALL_NAME}", kafka_sha512=digest)
    return tag


def main(argv: Optional[Sequence[str]] = None) -> None:
    standalone("python -m bench.memory", __doc__, RESULTS / "memory.md",
               lambda p: (p.add_argument("--image", default=h.IMAGE_TAG),
                   p.add_argument("--seconds", type=int, default=90, help="seconds of load per case")),
               lambda report, args: run(report, ensure_image(args.image), args.seconds), argv)


if __name__ == "__main__":
    main()
