"""S1: three pods started in parallel -> quorum + three brokers + an authenticated RF=3 acks=all write
acknowledged, with TLS + SASL/PLAIN + ACLs (k8s/components/secure's settings) vs plaintext, in the
same run, interleaved (the order alternates), n runs each.

The measurement is P3's (bench/cluster.py ``one_run``, imported): the pods are started at t=0, a
client polls until the quorum has a leader and every broker is registered, creates the topic and
writes one message with acks=all; the time is when that write is acknowledged. The secure runs
use kraftlab's SecureLab: the pods get TLS_DIR, SASL_USERS_DIR, AUTHORIZATION=acl and
SUPER_USERS=admin, and the client is the admin over SASL_SSL (authenticated and authorized). The
certificates and Secrets are made before t=0 (cert-manager's work, not the pods'). Kafka's own
log gives a second figure free of the client's polling: when the last of the three servers
logged "Kafka Server started".

    sudo .venv/bin/python -m bench.secure [--runs 3] [--cap 240]

writes bench/results/secure.md and prints it."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import kraftlab
from bench import cluster
from bench.homes import kafka_dist
from bench.report import Report, Row
from bench.runs import ClusterRun
from bench.stats import Summary, ratios
from kraftlab.secure import SecureLab

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("plaintext", "secure")
LABS: dict[str, Callable[..., kraftlab.Lab]] = {
    "plaintext": kraftlab.Lab,
    "secure": functools.partial(SecureLab, secure=True),
}


def servers_started(run: ClusterRun) -> Optional[float]:
    """When the last pod's Kafka logged "Kafka Server started" (seconds after the pods started)."""
    times = [e.t for e in run.events if e.name == "server started"]
    return max(times) if len(times) == run.pods else None


def s1(dist: Path, report: Report, runs: int, cap: float) -> dict[str, list[ClusterRun]]:
    kraftlab.require_root()
    stale = kraftlab.reap_stale()
    if stale:
        kraftlab.log(f"removed leftovers of dead labs: {', '.join(stale)}")
    probe_dir = kraftlab.compile_probe(dist)
    results: dict[str, list[ClusterRun]] = {kind: [] for kind in KINDS}
    for i in range(runs):
        order = KINDS if i % 2 == 0 else tuple(reversed(KINDS))
        for kind in order:
            print(f"bench: S1 run {i + 1}/{runs}: {kind}", file=sys.stderr, flush=True)
            result = cluster.one_run("us", dist, probe_dir, cap, lab_class=LABS[kind])
            results[kind].append(result)
            print(f"bench: S1 {kind}: servers started {servers_started(result)}, ready {result.ready}, "
                  f"acked {result.acked}{', ' + result.error if result.error else ''}",
                  file=sys.stderr, flush=True)

    failed = {kind: [r for r in rs if r.acked is None] for kind, rs in results.items()}
    for kind, bad in failed.items():
        report.line(f"S1 {kind} runs without an acknowledged write within {cap:.0f}s", f"{len(bad)}/{runs}")
        if bad:
            report.note(f"S1: {len(bad)} {kind} runs counted as {cap:.0f}s: "
                        + "; ".join(r.error for r in bad if r.error))

    def figure(kind: str, value: str) -> list[float]:
        out = []
        for r in results[kind]:
            got = servers_started(r) if value == "started" else getattr(r, value)
            out.append(got if got is not None else cap)
        return out

    for value, what in (
        ("acked", "3 pods in parallel -> leader + 3 brokers + authenticated RF=3 acks=all write acked"),
        ("ready", "3 pods in parallel -> leader + 3 brokers registered (client poll)"),
        ("started", "3 pods in parallel -> last 'Kafka Server started' (Kafka's log)"),
    ):
        plain, secure = figure("plaintext", value), figure("secure", value)
        row = Row("S1", what, "plaintext", Summary.of(plain), Summary.of(secure),
                  Summary.of(ratios(secure, plain)), "secure/plaintext", digits=1)
        report.add(row)
        report.summary_lines(f"S1 {value} plaintext", Summary.of(plain), "s")
        report.summary_lines(f"S1 {value} secure", Summary.of(secure), "s")
        report.summary_lines(f"S1 {value} ratio secure/plaintext", Summary.of(ratios(secure, plain)), "x")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.secure", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind, interleaved (default 3)")
    parser.add_argument("--cap", type=float, default=240, help="seconds one run may take (default 240)")
    parser.add_argument("--output", type=Path, default=RESULTS / "secure.md")
    args = parser.parse_args()
    started = time.monotonic()
    report = Report()
    report.note("S1 'kraft-entrypoint' column = TLS + SASL/PLAIN + ACLs (SecureLab, the admin as client); "
                "'reference' = plaintext (the P3 lab). Certificates and Secrets are made before t=0.")
    dist = kafka_dist()
    print(f"bench: Kafka distribution {dist}", file=sys.stderr, flush=True)
    load_before = os.getloadavg()[0]
    s1(dist, report, args.runs, args.cap)
    report.note(f"load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
                f"on {os.cpu_count()} CPUs: absolute seconds grow with it, the pairwise ratio less so")
    text = report.markdown(time.monotonic() - started).replace(
        "# kraft-entrypoint bench", "# kraft-entrypoint bench: secure vs plaintext cold start", 1
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print()
    print(text)
    print(f"bench: wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
