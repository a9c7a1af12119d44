"""The table (markdown) and the ``name: value`` lines of one bench run."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bench.stats import Summary


@dataclass
class Row:
    figure: str
    what: str
    reference_label: str
    reference: Optional[Summary]
    ours: Optional[Summary]
    ratio: Optional[Summary]
    ratio_label: str
    unit: str = "s"
    digits: int = 3


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self, name: str, value: object) -> None:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        self.lines.append((name, text))
        print(f"{name}: {text}", flush=True)

    def summary_lines(self, prefix: str, summary: Summary, unit: str) -> None:
        self.line(f"{prefix} median {unit}", summary.median)
        self.line(f"{prefix} min {unit}", summary.low)
        self.line(f"{prefix} max {unit}", summary.high)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    def markdown(self, elapsed: float) -> str:
        out = [f"# kraft-entrypoint bench, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}", "",
               machine(), "",
               "| figure | measured | reference | kraft-entrypoint | ratio (pair by pair) |",
               "| --- | --- | --- | --- | --- |"]
        for row in self.rows:
            reference = _cell(row.reference_label, row.reference, row.unit, row.digits)
            out.append(f"| {row.figure} | {row.what} | {reference} "
                       f"| {_cell('', row.ours, row.unit, row.digits)} "
                       f"| {_cell(row.ratio_label, row.ratio, 'x', 2)} |")
        out += ["", "Cells: median (min-max) over n runs; the ratio is taken within each interleaved pair "
                "of runs, then summarised the same way.", ""]
        if self.notes:
            out += ["Notes:", ""] + [f"- {note}" for note in self.notes] + [""]
        out += ["`name: value` lines:", "", "```"] + [f"{name}: {value}" for name, value in self.lines]
        out += ["```", "", f"Bench wall time: {elapsed / 60:.1f} min.", ""]
        return "\n".join(out)


def _cell(label: str, summary: Optional[Summary], unit: str, digits: int) -> str:
    if summary is None:
        return "-"
    f = f"{{:.{digits}f}}"
    prefix = f"{label}: " if label else ""
    spread = f"{f.format(summary.low)}-{f.format(summary.high)}"
    return f"{prefix}**{f.format(summary.median)} {unit}** ({spread}, n={summary.n})"


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    java_line = java.splitlines()[0] if java else "?"
    return (f"Machine: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {sys.version.split()[0]}, {java_line}; Kafka 3.3.2 jars "
            "from scripts/kafka-dist (the same jars for the seed and for us).")


def standalone(prog: str, doc: Optional[str], output: Path,
               add_arguments: Callable[[argparse.ArgumentParser], object],
               run: Callable[[Report, argparse.Namespace], None],
               argv: Optional[Sequence[str]] = None) -> None:
    """One bench module run alone: its options plus --output, its figures, the table written to
    the output file and printed."""
    parser = argparse.ArgumentParser(prog=prog, description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--output", type=Path, default=output)
    args = parser.parse_args(argv)
    report = Report()
    started = time.monotonic()
    run(report, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.markdown(time.monotonic() - started))
    print(args.output.read_text())
