"""F1: the format JVM's start-up flags, one at a time. Our first start of pod 0 -> exec (the server
stubbed, as in P2P; the storage CDS archive in place, as the image ships it) with the format JVM's
flags set to Kafka's own defaults (``KAFKA_JVM_PERFORMANCE_OPTS`` and ``KAFKA_JMX_OPTS``, read from
the distribution's kafka-run-class.sh), then to those with one flag changed, and to every flag kept
together. The entrypoint gives the format JVM no JMX agent, so the variants carry Kafka's default
JMX options in ``KAFKA_JVM_PERFORMANCE_OPTS`` (the JVM reads them wherever they are), except the
one that leaves them out.
Runs are interleaved in rounds whose order rotates; each variant is compared with the default run
of its own round. ``-Xshare:off`` is a control: it must come out slower, or the archive is not in use.

Standalone: ``.venv/bin/python -m bench.format_flags [--kafka 3.3.2,3.9.2,4.4.0] [--runs 9]``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.homes import cds_dist, stub_home
from bench.report import Report, Row
from bench.startup import PYTHON, Bench, Measured, measure
from bench.stats import Summary, ratios
from kraftlab import versions

RESULTS = Path(__file__).resolve().parent / "results"
_DEFAULTS = {name: re.compile(rf'^\s*{name}="(-[^"]*)"', re.MULTILINE)
             for name in ("KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_JMX_OPTS")}


def kafka_default_opts(dist: Path, name: str = "KAFKA_JVM_PERFORMANCE_OPTS") -> str:
    """What kafka-run-class.sh uses for the variable ``name`` when it is unset."""
    found = _DEFAULTS[name].search((dist / "bin" / "kafka-run-class.sh").read_text())
    if found is None:
        raise RuntimeError(f"no default {name} in {dist}/bin/kafka-run-class.sh")
    return " ".join(found.group(1).split())


def variants(default: str, jmx: str) -> dict[str, str]:
    """Each candidate as the whole KAFKA_JVM_PERFORMANCE_OPTS of the format JVM (``jmx``: Kafka's
    default KAFKA_JMX_OPTS, which the entrypoint no longer gives it)."""
    serial = re.sub(r"-XX:\+UseG1GC|-XX:MaxGCPauseMillis=\S+|-XX:InitiatingHeapOccupancyPercent=\S+|"
                    r"-XX:\+ExplicitGCInvokesConcurrent", "", default)
    serial = " ".join([*serial.split(), "-XX:+UseSerialGC"])
    return {
        "Kafka's default": f"{default} {jmx}",
        "+ -XX:TieredStopAtLevel=1 (C1 only)": f"{default} {jmx} -XX:TieredStopAtLevel=1",
        "no JMX agent (KAFKA_JMX_OPTS without -Dcom.sun.management.jmxremote)": default,
        "Serial GC instead of G1": f"{serial} {jmx}",
        "+ -XX:-UsePerfData": f"{default} {jmx} -XX:-UsePerfData",
        "+ -Xss256k": f"{default} {jmx} -Xss256k",
        "control: + -Xshare:off (no CDS)": f"{default} {jmx} -Xshare:off",
    }


class CdsBench(Bench):
    """bench.startup.Bench whose home for us carries the storage CDS archive, as the image does."""

    def __init__(self, dist: Path) -> None:
        super().__init__(dist)
        self.our_home = stub_home(cds_dist(dist), self.root / "our-home-cds", dist_storage_tool=True)


def run_rounds(bench: Bench, options: dict[str, str], n: int) -> dict[str, list[Measured]]:
    names = list(options)
    runs: dict[str, list[Measured]] = {name: [] for name in names}
    for i in range(n):
        for name in names[i % len(names):] + names[: i % len(names)]:
            share = bench.fresh_share()
            env = bench.our_env(share) | {"KAFKA_JVM_PERFORMANCE_OPTS": options[name]}
            m = measure([PYTHON, "-m", "kraft_entrypoint"], env, bench.root)
            if m.returncode != 0 or not (share / "0" / "meta.properties").exists():
                raise RuntimeError(f"first start with {options[name]!r}: exit {m.returncode}\n"
                                   f"{m.stderr[-2000:]}")
            runs[name].append(m)
        print(f"  round {i + 1}/{n}, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return runs


def kept(default: str, runs: dict[str, list[Measured]], options: dict[str, str]) -> list[str]:
    """The flags whose runs were faster than the default's in more than two thirds of the rounds."""
    base = [m.seconds for m in runs["Kafka's default"]]
    flags = []
    for name, measured in runs.items():
        if name == "Kafka's default" or name.startswith("control"):
            continue
        wins = sum(r < 1 for r in ratios([m.seconds for m in measured], base))
        if wins * 3 > 2 * len(base):
            flags.append(name)
    return flags


def run(report: Report, version_list: Sequence[str], n: int) -> None:
    for version in version_list:
        dist = versions.fetch_dist(version)
        bench = CdsBench(dist)
        try:
            default = kafka_default_opts(dist)
            options = variants(default, kafka_default_opts(dist, "KAFKA_JMX_OPTS"))
            print(f"\n== F1 format JVM flags, Kafka {version}, {n} rounds", file=sys.stderr, flush=True)
            runs = run_rounds(bench, options, n)
            chosen = kept(default, runs, options)
            if chosen:
                base = options["Kafka's default"]
                combined = _combine(base, [options[name] for name in chosen])
                more = run_rounds(bench, {"Kafka's default": base, "kept together": combined}, n)
                runs["Kafka's default (2nd run)"] = more["Kafka's default"]
                runs["kept together"] = more["kept together"]
            _rows(report, version, runs)
            report.line(f"F1 {version}: flags faster than the default in > 2/3 of their rounds",
                        ", ".join(chosen) or "none")
        finally:
            bench.close()


def _combine(default: str, chosen: Sequence[str]) -> str:
    """Every chosen variant's change against the default applied to it (flags added; G1's or the
    JMX agent's flags removed), whatever the order."""
    base = default.split()
    removed = {w for option in chosen for w in base if w not in option.split()}
    added = [w for option in chosen for w in option.split() if w not in base]
    return " ".join([w for w in base if w not in removed] + list(dict.fromkeys(added)))


def _rows(report: Report, version: str, runs: dict[str, list[Measured]]) -> None:
    for name, measured in runs.items():
        base_name = "Kafka's default (2nd run)" if name == "kept together" else "Kafka's default"
        base = [m.seconds for m in runs[base_name]]
        seconds = [m.seconds for m in measured]
        report.rows.append(Row(
            "F1", f"{version}: first start -> exec, format JVM {name}", "Kafka's default",
            Summary.of(base), Summary.of(seconds), Summary.of(ratios(base, seconds)), "default/this"))
        report.line(f"F1 {version} {name} peak RSS MiB",
                    round(Summary.of([m.maxrss_mib for m in measured]).median, 1))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.format_flags", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kafka", default="3.3.2,3.9.2,4.4.0", help="comma-separated Kafka versions")
    parser.add_argument("--runs", type=int, default=9, help="rounds (each runs every variant once)")
    parser.add_argument("--output", type=Path, default=RESULTS / "format-flags.md")
    args = parser.parse_args(argv)
    report = Report()
    report.line("load average at the start", ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    run(report, [v.strip() for v in args.kafka.split(",") if v.strip()], args.runs)
    report.line("load average at the end", ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.markdown(0.0))
    print(args.output.read_text())


if __name__ == "__main__":
    main()
