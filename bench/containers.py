"""P5 (restart of a formatted pod -> "Kafka Server started") and P6 (first start: format + server ->
"Kafka Server started"): containers of the image built from docker/Dockerfile, with its CDS archives
(KRAFT_CDS=auto) vs without them (KRAFT_CDS=off, the same image), runs interleaved; and the image's
size with and without the archives (the same Dockerfile with CDS_ARCHIVES=off).

The image is built the way the container tests build it (kraftlab/container.py): the
local stand-ins for openjdk:11 / eclipse-temurin:17-jre and the Kafka 3.3.2 tarball from
scripts/kafka-dist served on 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bench.homes import REPO
from bench.report import Report, Row
from bench.stats import Summary, ratios
from kraftlab import container as h

BASES = {"11": h.BASE_IMAGE, "17": h.BASE_IMAGE_17}
#: The single pod of the container tests (k8s/kafka.yaml's, one voter) with the manifest's heap.
POD_ENV = {"KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m"}
STARTED = b"Kafka Server started"
EXPECT = {
    True: b"cds: kafka-server-start.sh uses /opt/kafka/cds/server.jsa",
    False: b"cds: off (KRAFT_CDS=off)",
}


@dataclass(frozen=True)
class Images:
    java: str
    with_cds: str
    without_cds: str


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def build_images(javas: list[str], report: Report) -> list[Images]:
    """Both images per Java version. Every layer before the CDS step comes from podman's cache after
    the first time; the image with archives is removed first, so its CDS step runs again here and
    its duration (the build's extra cost) is reported."""
    built = []
    with ExitStack() as stack:
        dist = h.kafka_dist()
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kraft-bench-tarball-")))
        tarball, digest = h.pack_tarball(dist, scratch)
        base_url = stack.enter_context(h.file_server(tarball.parent))
        url = f"{base_url}/{h.TARBALL_NAME}"
        for java in javas:
            h.run([str(REPO / "scripts" / "base-image"), java], timeout=1800)
            tag = f"localhost/kraft-entrypoint/kafka-kraft:bench-java{java}"
            args = {"BASE_IMAGE": BASES[java]}
            h.run(["podman", "rmi", "--force", tag], timeout=120, check=False)
            for suffix, cds in (("", "on"), ("-no-cds", "off")):
                started = time.monotonic()
                proc = h.build_image(tag + suffix, kafka_url=url, kafka_sha512=digest,
                                     build_args={**args, "CDS_ARCHIVES": cds}, timeout=3600)
                _say(f"image {tag + suffix} ready ({time.monotonic() - started:.0f} s, cached layers reused)")
                step = re.search(r"kraft-entrypoint cds: done in ([0-9.]+) s", proc.stdout + proc.stderr)
                if cds == "on" and step:
                    report.line(f"image java{java} CDS build step s", float(step.group(1)))
            built.append(Images(java, tag, tag + "-no-cds"))
    return built


class Pod:
    """One container of the image; ``start`` is timed from `podman start` to Kafka's started line."""

    def __init__(self, image: str, cds: bool, name: str, extra: Optional[dict[str, str]] = None) -> None:
        self.image, self.cds, self.name = image, cds, name
        env = {**POD_ENV, "KRAFT_CDS": "auto" if cds else "off", **(extra or {})}
        h.run(["podman", "create", "--name", name, *h.single_pod_options(env), image], timeout=120)

    def start(self, timeout: float = 300) -> tuple[float, bytes]:
        """Seconds from `podman start` to "Kafka Server started" on the container's output; then
        stops it (SIGTERM, as the kubelet does) and returns everything it printed."""
        began = time.perf_counter()
        process = subprocess.Popen(["podman", "start", "--attach", self.name], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert process.stdout is not None
        output, elapsed = b"", None
        deadline = began + timeout
        for line in process.stdout:
            output += line
            if STARTED in line:
                elapsed = time.perf_counter() - began
                break
            if time.perf_counter() > deadline:
                break
        h.run(["podman", "stop", "--time", "60", self.name], timeout=120, check=False)
        rest, _ = process.communicate(timeout=120)
        output += rest
        if elapsed is None:
            tail = output[-4000:].decode(errors="replace")
            raise RuntimeError(f"{self.name}: no 'Kafka Server started':\n{tail}")
        if EXPECT[self.cds] not in output:
            raise RuntimeError(f"{self.name}: expected {EXPECT[self.cds]!r} in its log")
        return elapsed, output

    def remove(self) -> None:
        h.run(["podman", "rm", "--force", "--time", "0", self.name], timeout=120, check=False)


def _pairs(n: int, with_cds: Callable[[], float],
           without: Callable[[], float]) -> tuple[list[float], list[float]]:
    """n interleaved pairs (ABBA...): the order alternates so neither side always runs second."""
    a: list[float] = []
    b: list[float] = []
    for i in range(n):
        if i % 2 == 0:
            a.append(with_cds())
            b.append(without())
        else:
            b.append(without())
            a.append(with_cds())
    return a, b


def _row(report: Report, figure: str, what: str, java: str, with_cds: list[float],
         without: list[float]) -> None:
    row = Row(figure, f"{what}, Java {java} image", "without CDS", Summary.of(without), Summary.of(with_cds),
              Summary.of(ratios(without, with_cds)), "without/with", digits=2)
    report.add(row)
    report.summary_lines(f"{figure} java{java} without CDS time", row.reference, "s")  # type: ignore[arg-type]
    report.summary_lines(f"{figure} java{java} with CDS time", row.ours, "s")  # type: ignore[arg-type]
    report.summary_lines(f"{figure} java{java} ratio without/with", row.ratio, "x")  # type: ignore[arg-type]


def p5_restart(images: Images, report: Report, runs: int) -> None:
    """A formatted pod restarts: the same container started again (its storage kept)."""
    prefix = f"kraft-bench-{uuid.uuid4().hex[:6]}"
    pods = {cds: Pod(images.with_cds, cds, f"{prefix}-p5-{'cds' if cds else 'off'}") for cds in (True, False)}
    try:
        for pod in pods.values():
            _, output = pod.start()  # the first start formats; not measured
            if b"format: running" not in output:
                raise RuntimeError("the first start did not format")

        def measure(cds: bool) -> float:
            seconds, output = pods[cds].start()
            if b"format: skipped" not in output:
                raise RuntimeError("a restart formatted again")
            return seconds
        with_cds, without = _pairs(runs, lambda: measure(True), lambda: measure(False))
    finally:
        for pod in pods.values():
            pod.remove()
    _row(report, "P5", "restart of a formatted pod: podman start -> 'Kafka Server started'", images.java,
         with_cds, without)


def p5_metrics(images: Images, report: Report, runs: int) -> None:
    """P5 with the Prometheus agent (METRICS=prometheus) vs without (METRICS off), both with CDS:
    the agent's cost on a restart of a formatted pod."""
    prefix = f"kraft-bench-{uuid.uuid4().hex[:6]}"
    pods = {on: Pod(images.with_cds, True, f"{prefix}-p5m-{'on' if on else 'off'}",
                    {"METRICS": "prometheus" if on else "off"}) for on in (True, False)}
    try:
        for pod in pods.values():
            pod.start()  # the first start formats; not measured

        def measure(on: bool) -> float:
            seconds, output = pods[on].start()
            if (b"metrics: Prometheus" in output) != on or b"format: skipped" not in output:
                raise RuntimeError(f"METRICS {'on' if on else 'off'}: unexpected log\n{output[-2000:]!r}")
            return seconds
        with_agent, without = _pairs(runs, lambda: measure(True), lambda: measure(False))
    finally:
        for pod in pods.values():
            pod.remove()
    row = Row("P5M", f"restart of a formatted pod with the metrics agent, Java {images.java} image",
              "METRICS off", Summary.of(without), Summary.of(with_agent),
              Summary.of(ratios(with_agent, without)), "with/without", digits=2)
    report.add(row)
    report.summary_lines(f"P5M java{images.java} with/without agent", row.ratio, "x")  # type: ignore[arg-type]


def p6_first_start(images: Images, report: Report, runs: int) -> None:
    """A new pod: a new container (empty storage) each run; format + server."""
    prefix = f"kraft-bench-{uuid.uuid4().hex[:6]}"
    counter = iter(range(10**6))

    def measure(cds: bool) -> float:
        pod = Pod(images.with_cds, cds, f"{prefix}-p6-{next(counter)}")
        try:
            seconds, output = pod.start()
        finally:
            pod.remove()
        if b"format: running" not in output:
            raise RuntimeError("a first start did not format")
        if cds and b"cds: kafka-storage.sh uses /opt/kafka/cds/storage.jsa" not in output:
            raise RuntimeError("the format run did not get its archive")
        return seconds

    with_cds, without = _pairs(runs, lambda: measure(True), lambda: measure(False))
    _row(report, "P6", "first start (format + server): podman start -> 'Kafka Server started'", images.java,
         with_cds, without)


def image_sizes(images: Images, report: Report) -> None:
    sizes = {}
    for label, tag in (("with", images.with_cds), ("without", images.without_cds)):
        size = int(h.run(["podman", "image", "inspect", "--format", "{{.Size}}", tag], timeout=60).stdout)
        sizes[label] = size / 2**20
        report.line(f"image java{images.java} size {label} CDS archives MiB", round(sizes[label]))
    archives = h.run(["podman", "run", "--rm", *h.PODMAN_RUN_OPTS, "--entrypoint", "du", images.with_cds,
                      "-k", "/opt/kafka/cds/storage.jsa", "/opt/kafka/cds/server.jsa"], timeout=120).stdout
    for line in archives.splitlines():
        kib, path = line.split()
        report.line(f"image java{images.java} {path} MiB", round(int(kib) / 1024, 1))
    report.line(f"image java{images.java} added by the archives MiB", round(sizes["with"] - sizes["without"]))
