"""What one P3/S1 cluster run recorded: its timeline of pod events and its outcome. The runner
(bench/cluster.py) fills it, the chart (bench/chart.py) and the secure bench read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Event:
    pod: int
    t: float  # seconds since the pods were started
    name: str


@dataclass
class ClusterRun:
    kind: str  # "seed", "us", "us-cds", "single"
    pods: int
    events: list[Event] = field(default_factory=list)
    ready: Optional[float] = None  # quorum leader + every broker registered
    acked: Optional[float] = None  # the acks=all write acknowledged
    restarts: int = 0
    error: str = ""
