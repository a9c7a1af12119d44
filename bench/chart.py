"""The P3 timeline chart: one row per pod, seed vs us (and the single-node floor), matplotlib PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from bench.runs import ClusterRun

COLOURS = {
    "entrypoint": "#9e9e9e",
    "random-uuid (JVM)": "#ff9800",
    "format (JVM)": "#e53935",
    "Kafka starting": "#90caf9",
    "in quorum, broker starting": "#1e88e5",
    "running": "#43a047",
    "crashed, back-off": "#ffffff",
}


def _segments(run: ClusterRun, pod: int, end: float) -> tuple[list[tuple[float, float, str]], list[float]]:
    segments: list[tuple[float, float, str]] = []
    exits: list[float] = []
    state, since = None, 0.0

    def switch(new: str | None, t: float) -> None:
        nonlocal state, since
        if state is not None and t > since:
            segments.append((since, t, state))
        state, since = new, t

    for event in (e for e in run.events if e.pod == pod):
        name, t = event.name, max(0.0, event.t)
        if name in ("start", "restart"):
            switch("entrypoint", t)
        elif name.startswith("storage-begin random-uuid"):
            switch("random-uuid (JVM)", t)
        elif name.startswith("storage-begin format"):
            switch("format (JVM)", t)
        elif name.startswith("storage-end"):
            switch("entrypoint", t)
        elif name == "exec":
            switch("Kafka starting", t)
        elif name == "joined quorum":
            switch("in quorum, broker starting", t)
        elif name == "server started":
            switch("running", t)
        elif name.startswith("exit"):
            exits.append(t)
            switch("crashed, back-off", t)
    switch(None, max(end, since))
    return segments, exits


def _median_run(runs: list[ClusterRun]) -> ClusterRun | None:
    done = sorted((r for r in runs if r.acked is not None), key=lambda r: r.acked or 0.0)
    return done[len(done) // 2] if done else (runs[0] if runs else None)


def timeline(results: dict[str, list[ClusterRun]], out: Path) -> None:
    labels = {"seed": "seed entrypoint.sh", "us": "kraft-entrypoint", "us-cds": "kraft-entrypoint + CDS",
              "single": "1 node (floor)"}
    chosen = [(kind, run) for kind in labels if (run := _median_run(results.get(kind, [])))]
    rows = sum(run.pods for _, run in chosen)
    horizon = max((run.acked or max((e.t for e in run.events), default=0.0)) for _, run in chosen) * 1.05
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.55 * rows + 0.6 * len(chosen)))
    y, ticks, names = 0.0, [], []
    for kind, run in chosen:
        end = run.acked or horizon
        top = y
        for pod in range(run.pods):
            segments, exits = _segments(run, pod, end)
            for start, stop, state in segments:
                ax.barh(y, stop - start, left=start, height=0.6, color=COLOURS[state],
                        edgecolor="#616161" if state == "crashed, back-off" else "none",
                        linestyle="--", linewidth=0.8)
            for t in exits:
                ax.plot(t, y, marker="X", color="black", markersize=9)
            ticks.append(y)
            names.append(f"{labels[kind]}: kafka-{pod}")
            y += 1
        if run.ready is not None:
            ax.vlines(run.ready, top - 0.4, y - 0.6, colors="black", linestyles=":", linewidth=1.2)
        if run.acked is not None:
            ax.vlines(run.acked, top - 0.4, y - 0.6, colors="black", linewidth=1.8)
            ax.text(run.acked + horizon * 0.005, top - 0.35, f"acks=all write acked {run.acked:.1f} s",
                    fontsize=8, va="bottom")
        y += 0.6
    ax.set_yticks(ticks, names)
    ax.invert_yaxis()
    ax.set_xlim(0, horizon * 1.12)
    ax.set_xlabel("seconds since the pods were started (all in parallel)")
    ax.set_title("P3: Kafka 3.3.2 KRaft cold start, 3 pods in parallel (median run of each); "
                 "dotted: quorum + brokers ready", fontsize=10)
    handles = [Patch(facecolor=c, edgecolor="#616161" if k.startswith("crashed") else "none",
                     linestyle="--", label=k) for k, c in COLOURS.items()]
    handles.append(plt.Line2D([], [], marker="X", color="black", linestyle="none", label="container exited"))
    ax.legend(handles=handles, loc="lower right", fontsize=8, ncol=2)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
