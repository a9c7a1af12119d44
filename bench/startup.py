"""P1 (restart of a formatted node -> exec), P2 (first start of pod 0 -> exec), P4 (--dry-run vs
importing the three dependencies), and the peak memory of each, seed vs us, interleaved."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.homes import REPO, seed_script, stub_home
from bench.report import Report, Row
from bench.stats import Summary, ratios

PYTHON = sys.executable
POD = {"HOSTNAME": "kafka-0", "REPLICAS": "3", "SERVICE": "kafka-svc", "NAMESPACE": "kafka-kraft"}


@dataclass(frozen=True)
class Measured:
    seconds: float
    maxrss_mib: float  # the largest process of the tree (GNU time's %M: its child's wait4 rusage)
    returncode: int
    stderr: str


# GNU time starts the measured program, so the program is forked from a ~1 MiB process. Forked
# from this bench process instead, its peak RSS (ru_maxrss counts the pages it shares with its
# parent until the exec) would never read below the bench's own ~15-25 MiB: measured here, /bin/true
# read 315 MiB when spawned from a process holding 300 MiB, and 1 MiB through GNU time.
GNU_TIME = "/usr/bin/time"


def measure(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measured:
    """Wall time from spawn to exit, and the peak RSS of the process tree."""
    if not os.access(GNU_TIME, os.X_OK):
        raise RuntimeError(f"{GNU_TIME} (GNU time) is needed to measure peak memory: apt-get install time")
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as peak:
        start = time.perf_counter()
        process = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", peak.name, "--", *argv], env=dict(env),
                                   cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        process.wait()
        elapsed = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
        # "%M" is the last line ("Command exited with non-zero status N" may come before it)
        kib = int(peak.read().decode().split()[-1])
    return Measured(elapsed, kib / 1024, process.returncode, text)


class Bench:
    """One scratch directory with a stub KAFKA_HOME for the seed and one for us."""

    def __init__(self, dist: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kraft-bench-"))
        self.seed_home = stub_home(dist, self.root / "seed-home")
        self.our_home = stub_home(dist, self.root / "our-home")
        self.seed = seed_script(self.seed_home, self.root / "seed-entrypoint.sh")
        self.counter = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def fresh_share(self) -> Path:
        self.counter += 1
        path = self.root / f"share-{self.counter}"
        path.mkdir()
        return path

    def base_env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
               "LANG": "C.UTF-8"}
        if "JAVA_HOME" in os.environ:
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        return env

    def run_seed(self, share: Path) -> Measured:
        path = f"{self.seed_home / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        env = self.base_env() | POD | {"SHARE_DIR": str(share), "PATH": path}
        return measure(["bash", str(self.seed)], env, self.root)

    def our_env(self, share: Path) -> dict[str, str]:
        return self.base_env() | POD | {"SHARE_DIR": str(share), "KAFKA_HOME": str(self.our_home),
                                        "KRAFT_CONFIG": str(share / "server.properties"),
                                        "PYTHONPATH": str(REPO)}

    def run_ours(self, share: Path, *extra: str) -> Measured:
        return measure([PYTHON, "-m", "kraft_entrypoint", *extra], self.our_env(share), self.root)

    def run_import_floor(self) -> Measured:
        return measure([PYTHON, "-c", "import click, tenacity, jproperties"], self.base_env(), self.root)


def _check(m: Measured, what: str, expect: str = "") -> None:
    if m.returncode != 0 or (expect and expect not in m.stderr):
        raise RuntimeError(f"{what}: exit {m.returncode}, expected {expect!r} in its log:\n"
                           f"{m.stderr[-2000:]}")


def _pairs(n: int, first: callable, second: callable) -> tuple[list[Measured], list[Measured]]:  # type: ignore[valid-type]
    """n pairs, the order alternating (ABBA...) so neither side always runs warm."""
    a_runs, b_runs = [], []
    for i in range(n):
        if i % 2 == 0:
            a_runs.append(first())
            b_runs.append(second())
        else:
            b_runs.append(second())
            a_runs.append(first())
    return a_runs, b_runs


def _figure(report: Report, figure: str, what: str, ref_label: str, ref: list[Measured], ours: list[Measured],
            ratio_label: str, ratio_ours_over_ref: bool = False) -> None:
    ref_s, our_s = [m.seconds for m in ref], [m.seconds for m in ours]
    pair = ratios(our_s, ref_s) if ratio_ours_over_ref else ratios(ref_s, our_s)
    row = Row(figure, what, ref_label, Summary.of(ref_s), Summary.of(our_s), Summary.of(pair), ratio_label)
    report.add(row)
    key = ref_label.split()[0]
    report.summary_lines(f"{figure} {key} time", row.reference, "s")  # type: ignore[arg-type]
    report.summary_lines(f"{figure} us time", row.ours, "s")  # type: ignore[arg-type]
    report.summary_lines(f"{figure} ratio {ratio_label}", row.ratio, "x")  # type: ignore[arg-type]
    ref_mem, our_mem = Summary.of([m.maxrss_mib for m in ref]), Summary.of([m.maxrss_mib for m in ours])
    report.add(Row(figure, f"peak RSS of the process tree ({what})", ref_label, ref_mem, our_mem,
                   Summary.of(ratios([m.maxrss_mib for m in ref], [m.maxrss_mib for m in ours])
                              if not ratio_ours_over_ref else
                              ratios([m.maxrss_mib for m in ours], [m.maxrss_mib for m in ref])),
                   ratio_label, unit="MiB", digits=1))
    report.line(f"{figure} {key} peak rss median MiB", ref_mem.median)
    report.line(f"{figure} us peak rss median MiB", our_mem.median)


def p1_restart(bench: Bench, report: Report, runs: int) -> None:
    """A formatted node restarts: container start -> exec of kafka-server-start.sh."""
    seed_share, our_share = bench.fresh_share(), bench.fresh_share()
    _check(bench.run_seed(seed_share), "seed first start")
    _check(bench.run_ours(our_share), "our first start", "format: running")

    def seed() -> Measured:
        m = bench.run_seed(seed_share)
        _check(m, "seed restart")
        return m

    def ours() -> Measured:
        m = bench.run_ours(our_share)
        _check(m, "our restart", "format: skipped")
        return m

    seed_runs, our_runs = _pairs(runs, seed, ours)
    reformat = sum("already formatted" in m.stderr for m in seed_runs)
    report.line("P1 seed restarts that ran kafka-storage format (JVM)", f"{reformat}/{runs}")
    report.line("P1 us restarts that ran kafka-storage format (JVM)", f"0/{runs}")
    _figure(report, "P1", "restart of a formatted node -> exec", "seed", seed_runs, our_runs, "seed/us")


def p2_first_start(bench: Bench, report: Report, runs: int) -> None:
    """Pod 0 on an empty share directory -> exec (cluster id created, storage formatted)."""

    def seed() -> Measured:
        share = bench.fresh_share()
        m = bench.run_seed(share)
        _check(m, "seed first start")
        if not (share / "0" / "meta.properties").exists():
            raise RuntimeError(f"seed first start did not format:\n{m.stderr}")
        return m

    def ours() -> Measured:
        share = bench.fresh_share()
        m = bench.run_ours(share)
        _check(m, "our first start", "format: running")
        if not (share / "0" / "meta.properties").exists():
            raise RuntimeError(f"our first start did not format:\n{m.stderr}")
        return m

    seed_runs, our_runs = _pairs(runs, seed, ours)
    _figure(report, "P2", "first start of pod 0 -> exec", "seed", seed_runs, our_runs, "seed/us")


def p4_dry_run(bench: Bench, report: Report, runs: int) -> None:
    """--dry-run (imports, parse, plan, read storage, render) vs importing click, tenacity, jproperties."""
    share = bench.fresh_share()
    _check(bench.run_ours(share), "our first start", "format: running")

    def ours() -> Measured:
        m = bench.run_ours(share, "--dry-run")
        _check(m, "--dry-run", "exec:")
        return m

    def floor() -> Measured:
        m = bench.run_import_floor()
        _check(m, "import floor")
        return m

    floor_runs, our_runs = _pairs(runs, floor, ours)
    _figure(report, "P4", "--dry-run vs python -c 'import click, tenacity, jproperties'", "import floor",
            floor_runs, our_runs, "us/floor", ratio_ours_over_ref=True)
