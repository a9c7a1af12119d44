"""P3: three pods started in parallel -> quorum leader + three brokers registered + an RF=3 acks=all
write acknowledged; the seed's entrypoint.sh (failed starts restarted as Kubernetes does:
10 s, 20 s, 40 s... back-off) vs ours, ours again with CDS archives made for the host's JDK (as the
image has them for its JDK), and a single node's cold start through ours (the floor).

Uses kraftlab/ (network-namespace pods, the KraftProbe client) as it is; the only additions
here are a thin layer of our own: the Kubernetes-like restart loop, a client thread that polls for
readiness without blocking that loop, and the timeline (instrumented kafka-storage.sh /
kafka-server-start.sh wrappers plus Kafka's own timestamped log lines)."""

from __future__ import annotations

import contextlib
import datetime
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import kraftlab
from bench.homes import REPO, cds_dist, instrumented_home
from bench.report import Report, Row
from bench.runs import ClusterRun, Event
from bench.stats import Summary, ratios

# Kafka's own log lines (log4j "[yyyy-MM-dd HH:mm:ss,SSS] LEVEL ...", local time).
MARKERS = {
    "joined quorum": re.compile(r"Completed transition to (Leader|FollowerState)\("),
    "broker unfenced": re.compile(r"Transitioning from RECOVERY to RUNNING"),
    "server started": re.compile(r"Kafka Server started"),
}
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def backoff(failures: int) -> float:
    """Kubernetes' CrashLoopBackOff: 10 s after the first failure, doubling, capped at 300 s."""
    return min(300.0, 10.0 * 2 ** (failures - 1))


class _Pod:
    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal
        self.failures = 0
        self.restart_at: Optional[float] = None
        self.offset = 0
        self.seen: set[str] = set()


def _kafka_time(line: str) -> Optional[float]:
    match = STAMP.match(line)
    if not match:
        return None
    return datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def one_run(
    kind: str, dist: Path, probe_dir: Path, cap: float, lab_class: Callable[..., kraftlab.Lab] = kraftlab.Lab
) -> ClusterRun:
    """One cold start; ``lab_class`` makes the lab (a kraftlab.secure.SecureLab for TLS+SASL)."""
    pods = 1 if kind == "single" else 3
    run = ClusterRun(kind, pods)
    scratch = Path(tempfile.mkdtemp(prefix=f"kraft-bench-p3-{kind}-"))
    events_file = scratch / "events.log"
    home = instrumented_home(dist, scratch / "kafka-home", events_file)
    lab = lab_class(home, probe_dir, pods=pods, workdir=scratch / "lab")
    state = {i: _Pod(i) for i in range(pods)}
    stop = threading.Event()

    def start(i: int) -> None:
        if kind == "seed":
            lab.start_seed(i)
        elif kind == "single":
            lab.start(i, env=lab.pod_env(i, replicas=1))
        else:  # "us", "us-cds": the same start; the CDS home has cds/ (the entrypoint finds it)
            lab.start(i)

    def client() -> None:
        """Poll until ready, then create the topic and write one message with acks=all."""
        brokers = set(range(pods))
        topic_made = False
        while not stop.is_set():
            try:
                if run.ready is None:
                    alive = lab.running() == sorted(brokers)
                    if alive and all(lab.kafka_started(i) for i in brokers):
                        status = lab.status()
                        if status.leader in brokers and brokers <= status.brokers:
                            run.ready = time.time() - t0
                elif not topic_made:
                    lab.create_topic("bench", 1, pods, min_insync_replicas=str(min(2, pods)))
                    topic_made = True
                else:
                    result = lab.produce("bench", "p3", 1, timeout=60)
                    if result.acked:
                        run.acked = time.time() - t0
                        return
            except kraftlab.LabError as error:
                if "already exists" in str(error):
                    topic_made = True
            stop.wait(0.5)

    try:
        lab.open()
        t0 = time.time()
        for i in range(pods):
            start(i)
            run.events.append(Event(i, time.time() - t0, "start"))
        prober = threading.Thread(target=client, daemon=True)
        prober.start()
        while run.acked is None and time.time() - t0 < cap:
            now = time.time() - t0
            for pod in state.values():
                current = lab.current(pod.ordinal)
                _scan(current, pod, t0, run)
                code = current.process.poll()
                if code is not None and pod.restart_at is None:
                    pod.failures += 1
                    pod.restart_at = now + backoff(pod.failures)
                    run.events.append(Event(pod.ordinal, now, f"exit {code}"))
                elif pod.restart_at is not None and now >= pod.restart_at:
                    pod.restart_at, pod.offset, pod.seen = None, 0, set()
                    start(pod.ordinal)
                    run.restarts += 1
                    run.events.append(Event(pod.ordinal, time.time() - t0, "restart"))
            time.sleep(0.1)
        if run.acked is None:
            run.error = f"no acknowledged acks=all write within {cap:.0f}s"
        for pod in state.values():
            _scan(lab.current(pod.ordinal), pod, t0, run)
        run.events += _tool_events(events_file, t0, lab)
    except kraftlab.LabError as error:
        run.error = str(error).splitlines()[0]
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            problems = lab.close()
            if problems:
                kraftlab.log("cleanup problems: " + "; ".join(problems))
        shutil.rmtree(scratch, ignore_errors=True)
    run.events.sort(key=lambda e: (e.pod, e.t))
    return run


def _scan(pod_run: kraftlab.PodRun, pod: _Pod, t0: float, run: ClusterRun) -> None:
    try:
        with pod_run.stdout_path.open("rb") as out:
            out.seek(pod.offset)
            chunk = out.read()
    except FileNotFoundError:
        return
    end = chunk.rfind(b"\n") + 1
    pod.offset += end
    for line in chunk[:end].decode(errors="replace").splitlines():
        for name, pattern in MARKERS.items():
            if name not in pod.seen and pattern.search(line):
                stamp = _kafka_time(line)
                if stamp is not None:
                    pod.seen.add(name)
                    run.events.append(Event(pod.ordinal, stamp - t0, name))


def _tool_events(events_file: Path, t0: float, lab: kraftlab.Lab) -> list[Event]:
    """The wrappers' lines: '<epoch> <HOSTNAME> storage-begin format', '... exec'."""
    out = []
    if not events_file.exists():
        return out
    for line in events_file.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        host, what = parts[1], " ".join(parts[2:])
        ordinal = int(host.rsplit("-", 1)[1]) if host.rsplit("-", 1)[-1].isdigit() else -1
        out.append(Event(ordinal, float(parts[0]) - t0, what))
    del lab
    return out


def p3(dist: Path, report: Report, runs: int, cap: float, chart: Path) -> list[ClusterRun]:
    kraftlab.require_root()
    stale = kraftlab.reap_stale()
    if stale:
        kraftlab.log(f"removed leftovers of dead labs: {', '.join(stale)}")
    probe_dir = kraftlab.compile_probe(dist)
    homes = {"seed": dist, "us": dist, "us-cds": cds_dist(dist), "single": dist}
    results: dict[str, list[ClusterRun]] = {kind: [] for kind in homes}
    for i in range(runs):
        order = ["seed", "us", "us-cds", "single"] if i % 2 == 0 else ["us-cds", "us", "seed", "single"]
        for kind in order:
            print(f"bench: P3 run {i + 1}/{runs}: {kind}", file=sys.stderr, flush=True)
            result = one_run(kind, homes[kind], probe_dir, cap)
            results[kind].append(result)
            print(f"bench: P3 {kind}: ready {result.ready}, acked {result.acked}, restarts {result.restarts}"
                  f"{', ' + result.error if result.error else ''}", file=sys.stderr, flush=True)

    def acked(kind: str) -> list[float]:
        return [r.acked if r.acked is not None else cap for r in results[kind]]

    seed_t, our_t, cds_t, single_t = acked("seed"), acked("us"), acked("us-cds"), acked("single")
    failed = {kind: sum(r.acked is None for r in rs) for kind, rs in results.items()}
    for kind, count in failed.items():
        report.line(f"P3 {kind} runs without an acknowledged write within {cap:.0f}s", f"{count}/{runs}")
        if count:
            errors = "; ".join(r.error for r in results[kind] if r.error)
            report.note(f"P3: {count} of {runs} {kind} runs had no acknowledged write within the cap of "
                        f"{cap:.0f}s; counted as {cap:.0f}s: {errors}")
    report.line("P3 seed restarts per run (median)", Summary.of([r.restarts for r in results["seed"]]).median)
    report.line("P3 us restarts per run (median)", Summary.of([r.restarts for r in results["us"]]).median)
    row = Row("P3", "3 pods in parallel -> leader + 3 brokers + RF=3 acks=all write acked", "seed",
              Summary.of(seed_t), Summary.of(our_t), Summary.of(ratios(seed_t, our_t)), "seed/us", digits=1)
    report.add(row)
    report.summary_lines("P3 seed time", row.reference, "s")  # type: ignore[arg-type]
    report.summary_lines("P3 us time", row.ours, "s")  # type: ignore[arg-type]
    report.summary_lines("P3 ratio seed/us", row.ratio, "x")  # type: ignore[arg-type]
    floor = Row("P3", "single node cold start (floor) vs our 3 pods", "1 node", Summary.of(single_t),
                Summary.of(our_t), Summary.of(ratios(our_t, single_t)), "us/floor", digits=1)
    report.add(floor)
    report.summary_lines("P3 single node time", floor.reference, "s")  # type: ignore[arg-type]
    report.summary_lines("P3 ratio us/single node", floor.ratio, "x")  # type: ignore[arg-type]
    with_cds = Row("P3", "3 pods in parallel -> ... acked, kraft-entrypoint with CDS archives (host JDK)",
                   "without CDS", Summary.of(our_t), Summary.of(cds_t), Summary.of(ratios(our_t, cds_t)),
                   "without/with", digits=1)
    report.add(with_cds)
    report.summary_lines("P3 us with CDS time", with_cds.ours, "s")  # type: ignore[arg-type]
    report.summary_lines("P3 ratio us without/with CDS", with_cds.ratio, "x")  # type: ignore[arg-type]
    cds_restarts = Summary.of([r.restarts for r in results["us-cds"]]).median
    report.line("P3 us-cds restarts per run (median)", cds_restarts)
    ready = [r.ready for r in results["us"] if r.ready is not None]
    seed_ready = [r.ready for r in results["seed"] if r.ready is not None]
    if ready and seed_ready:
        report.line("P3 seed quorum+brokers ready median s", Summary.of(seed_ready).median)
        report.line("P3 us quorum+brokers ready median s", Summary.of(ready).median)
    cds_ready = [r.ready for r in results["us-cds"] if r.ready is not None]
    if cds_ready:
        report.line("P3 us-cds quorum+brokers ready median s", Summary.of(cds_ready).median)
    try:
        from bench.chart import timeline
        timeline(results, chart)
        report.note(f"P3 timeline chart: {chart.relative_to(REPO)}")
    except ImportError as error:
        report.note(f"P3 chart not drawn ({error}); install matplotlib in .venv")
    return [r for rs in results.values() for r in rs]
