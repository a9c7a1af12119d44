"""PR1: what one ``kraft-entrypoint probe ready`` costs (the kubelet runs it every 10 s in every
pod): wall time and peak RSS, measured inside a running single-voter pod of the image (a Python
wrapper in the container times the probe as its child and reads the child's ``ru_maxrss``), so
neither ``podman exec`` nor the bench is counted. ``probe live`` beside it for comparison.

Standalone (root, podman): ``.venv/bin/python -m bench.probe_cost [--image TAG] [--runs 15]``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from bench.memory import ensure_image, podman, wait_started
from bench.report import Report, Row, standalone
from bench.stats import Summary
from kraftlab import container as h

RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = "/opt/kraft-entrypoint/bin/python3"
#: Runs in the pod: the probe as a child, its wall time and the child's peak RSS (KiB on Linux).
TIMER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.monotonic()\n"
    "code = subprocess.run([sys.executable, '-m', 'kraft_entrypoint', 'probe', sys.argv[1]]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps([code, time.monotonic() - t, peak]))\n"
)


def run(report: Report, image: str, runs: int) -> None:
    name = f"kraft-bench-probe-{uuid.uuid4().hex[:6]}"
    try:
        podman("run", "--detach", "--name", name, *h.single_pod_options({}), image)
        wait_started(name)
        for kind in ("ready", "live"):
            seconds, rss = [], []
            for _ in range(runs):
                out = podman("exec", name, PYTHON, "-c", TIMER, kind, timeout=60).stdout.strip().splitlines()
                code, wall, kib = json.loads(out[-1])
                if code != 0:
                    raise RuntimeError(f"probe {kind} failed on a started single node: exit {code}")
                seconds.append(wall)
                rss.append(kib / 1024)
                time.sleep(0.5)
            report.add(Row("PR1", f"one `probe {kind}` in a running pod (openjdk:11 image, Kafka 3.3.2)", "",
                           None, Summary.of(seconds), None, ""))
            report.line(f"PR1 probe {kind} peak RSS MiB median", round(Summary.of(rss).median, 1))
            report.line(f"PR1 probe {kind} peak RSS MiB max", round(max(rss), 1))
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def main(argv: Optional[Sequence[str]] = None) -> None:
    standalone("python -m bench.probe_cost", __doc__, RESULTS / "probe.md",
               lambda p: (p.add_argument("--image", default=h.IMAGE_TAG),
                          p.add_argument("--runs", type=int, default=15)),
               lambda report, args: run(report, ensure_image(args.image), args.runs), argv)


if __name__ == "__main__":
    main()
