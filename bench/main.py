"""bench/run: P1-P4 (seed vs us, interleaved), P5-P6 (containers with vs without CDS), R1-R3 (the
reliability tests with figure counts), a markdown table in bench/results/latest.md and the P3 chart
in bench/results/p3-timeline.png."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import startup
from bench.homes import kafka_dist
from bench.report import Report

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--only", default="P1,P2,P1P,P2P,P3,P3K,P4,P5,P5M,P6,F1,M1,PR1,R1,R2,R3,R5",
                        help="comma-separated figures to run (default: all)")
    parser.add_argument("--runs", type=int, default=15, help="interleaved pairs for P1 and P4 (default 15)")
    parser.add_argument("--p2-runs", type=int, default=9, help="interleaved pairs for P2 (default 9)")
    parser.add_argument("--p3-runs", type=int, default=3, help="P3 runs of each kind (default 3)")
    parser.add_argument("--p3-cap", type=float, default=300,
                        help="seconds one P3 run may take, restarts included (default 300)")
    parser.add_argument("--p5-runs", type=int, default=7, help="interleaved pairs for P5 (default 7)")
    parser.add_argument("--p6-runs", type=int, default=5, help="interleaved pairs for P6 (default 5)")
    parser.add_argument("--java", default="11,17",
                        help="Java versions of the images for P5 and P6 (default 11,17)")
    parser.add_argument("--r1-examples", type=int, default=5000, help="HYPOTHESIS_EXAMPLES for R1")
    parser.add_argument("--r2-processes", type=int, default=32, help="KRAFT_RACE_PROCESSES for R2")
    parser.add_argument("--r2-trials", type=int, default=200, help="KRAFT_RACE_TRIALS for R2")
    parser.add_argument("--r3-trials", type=int, default=500, help="KRAFT_CRASH_TRIALS for R3")
    parser.add_argument("--peer-kafka", default="3.9.2,4.4.0",
                        help="Kafka versions of P1P/P2P (the apache/kafka image path exists from 3.7)")
    parser.add_argument("--m1-seconds", type=int, default=90, help="M1 seconds of load per case (default 90)")
    parser.add_argument("--p3k-rounds", type=int, default=2, help="P3K rounds (default 2)")
    parser.add_argument("--r5-rolls", type=int, default=2, help="R5 rolls of each kind (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="small counts everywhere (a smoke run of the bench itself, ~3 min)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.md")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.p2_runs, args.p3_runs, args.p5_runs, args.p6_runs = 3, 2, 1, 2, 1
        args.r1_examples, args.r2_processes, args.r2_trials, args.r3_trials = 200, 8, 10, 30
    return args


def main() -> None:
    args = parse_args()
    wanted = {item.strip().upper() for item in args.only.split(",") if item.strip()}
    report = Report()
    started = time.monotonic()
    RESULTS.mkdir(exist_ok=True)
    dist = kafka_dist()
    print(f"bench: Kafka distribution {dist}", file=sys.stderr, flush=True)
    report.line("machine load average (1 min) at start", round(os.getloadavg()[0], 1))

    if wanted & {"P1", "P2", "P4"}:
        bench = startup.Bench(dist)
        try:
            if "P1" in wanted:
                _phase("P1 restart of a formatted node -> exec, seed vs us")
                startup.p1_restart(bench, report, args.runs)
            if "P2" in wanted:
                _phase("P2 first start of pod 0 -> exec, seed vs us")
                startup.p2_first_start(bench, report, args.p2_runs)
            if "P4" in wanted:
                _phase("P4 --dry-run vs importing the dependencies")
                startup.p4_dry_run(bench, report, args.runs)
        finally:
            bench.close()

    if wanted & {"P1P", "P2P"}:  # seed, the apache/kafka image's path and us on Kafka 4.4.0 (bench/peer.py)
        from bench import peer
        for version in [v.strip() for v in args.peer_kafka.split(",") if v.strip()]:
            peer.run(report, wanted, args.runs, args.p2_runs, version,
                     output=args.output.with_name(f"peer-{version}.md"))

    if "P3" in wanted:
        _phase("P3 three pods in parallel -> quorum + 3 brokers + acks=all write (real Kafka)")
        if os.geteuid() != 0:
            report.note("P3 skipped: needs root for network namespaces")
        else:
            from bench import cluster
            cluster.p3(dist, report, runs=args.p3_runs, cap=args.p3_cap,
                       chart=RESULTS / "p3-timeline.png")

    if wanted & {"P5", "P5M", "P6"}:
        if os.geteuid() != 0:
            report.note("P5 and P6 skipped: need root for podman")
        else:
            from bench import containers
            for images in containers.build_images([j.strip() for j in args.java.split(",") if j.strip()],
                                                   report):
                containers.image_sizes(images, report)
                if "P5" in wanted:
                    _phase(f"P5 restart of a formatted pod, Java {images.java} image, with vs without CDS")
                    containers.p5_restart(images, report, args.p5_runs)
                if "P5M" in wanted:
                    _phase(f"P5M restart of a formatted pod, Java {images.java} image, METRICS on vs off")
                    containers.p5_metrics(images, report, args.p5_runs)
                if "P6" in wanted:
                    _phase(f"P6 first start of a pod, Java {images.java} image, with vs without CDS")
                    containers.p6_first_start(images, report, args.p6_runs)

    if "F1" in wanted:
        _phase("F1 the format JVM's flags, one at a time")
        from bench import format_flags
        format_flags.run(report, [v.strip() for v in args.peer_kafka.split(",")] + ["3.3.2"], args.p2_runs)

    if wanted & {"M1", "PR1"}:
        if os.geteuid() != 0:
            report.note("M1 and PR1 skipped: need root for podman")
        else:
            from bench import memory, probe_cost
            image = memory.ensure_image(memory.h.IMAGE_TAG)
            if "M1" in wanted:
                _phase("M1 heap vs memory limit under load (OOM-killed or not)")
                memory.run(report, image, args.m1_seconds)
            if "PR1" in wanted:
                _phase("PR1 one probe ready / live in a running pod")
                probe_cost.run(report, image, args.runs)

    if wanted & {"R1", "R2", "R3"}:
        from bench import reliability
        reliability.run(report, wanted, args)

    if "P3K" in wanted:
        _phase("P3K apply -> 3 pods -> acks=all write on the real Kubernetes: seed vs ours, CDS on and off")
        from bench import k8s_start
        k8s_start.run(report, args.p3k_rounds)

    if "R5" in wanted:
        _phase("R5 rollout restart under an acks=all producer: TCP probes vs probe ready (real Kubernetes)")
        from bench import roll
        roll.run(report, args.r5_rolls)

    elapsed = time.monotonic() - started
    report.line("machine load average (1 min) at end", round(os.getloadavg()[0], 1))
    text = report.markdown(elapsed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print()
    print(text)
    print(f"bench: wrote {args.output} in {elapsed / 60:.1f} min", file=sys.stderr)


def _phase(title: str) -> None:
    print(f"\n== {title}", file=sys.stderr, flush=True)
