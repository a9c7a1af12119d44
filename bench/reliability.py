"""R1-R3: the reliability tests, run with the figure counts; their `R<n> <name>: <value>` lines collected.

- R1 (bad input, hypothesis): test files under tests/ that print `R1 ...:` lines; HYPOTHESIS_EXAMPLES.
- R2 (first-start race): test files under tests/ that print `R2 ...:` lines; KRAFT_RACE_PROCESSES,
  KRAFT_RACE_TRIALS.
- R3 (SIGKILL during writes): tests/reliability/test_crash_safety.py; KRAFT_CRASH_TRIALS.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.homes import REPO
from bench.report import Report

LINE = re.compile(r"^(R[123] [^:\n]+): (.+)$", re.M)
MARK = {"R1": re.compile(r"""["']R1 """), "R2": re.compile(r"""["']R2 """)}


def _files(figure: str) -> list[Path]:
    if figure == "R3":
        return [REPO / "tests" / "reliability" / "test_crash_safety.py"]
    found = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        if MARK[figure].search(path.read_text(errors="replace")):
            found.append(path)
    return found


def run(report: Report, wanted: set[str], args: argparse.Namespace) -> None:
    env = dict(os.environ)
    env.update({
        "HYPOTHESIS_EXAMPLES": str(args.r1_examples),
        "KRAFT_RACE_PROCESSES": str(args.r2_processes),
        "KRAFT_RACE_TRIALS": str(args.r2_trials),
        "KRAFT_CRASH_TRIALS": str(args.r3_trials),
    })
    for figure in ("R1", "R2", "R3"):
        if figure not in wanted:
            continue
        files = _files(figure)
        if not files:
            report.note(f"{figure} not run: no test file under tests/ prints "
                        f"`{figure} <name>: <value>` lines yet")
            continue
        print(f"\n== {figure}: pytest -s {' '.join(str(f.relative_to(REPO)) for f in files)}",
              file=sys.stderr, flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                                 *map(str, files)], cwd=REPO, env=env, capture_output=True, text=True,
                                check=False)
        elapsed = time.monotonic() - started
        passed = result.returncode == 0
        for name, value in LINE.findall(result.stdout):
            if name.startswith(f"{figure} ") and "debug" not in name:
                report.line(name, value.strip())
        report.line(f"{figure} tests passed", "yes" if passed else f"NO (pytest exit {result.returncode})")
        report.line(f"{figure} wall time s", round(elapsed, 1))
        if not passed:
            tail = "\n".join(result.stdout.splitlines()[-30:])
            report.note(f"{figure} FAILED (pytest exit {result.returncode}); last lines:\n\n```\n{tail}\n```")
