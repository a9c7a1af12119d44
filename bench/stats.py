"""Median and spread of a few runs, and ratios taken pair by pair."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    low: float
    high: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        ordered = sorted(values)
        if not ordered:
            raise ValueError("no values")
        if len(ordered) >= 4:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1, q3 = ordered[0], ordered[-1]
        return cls(len(ordered), statistics.median(ordered), ordered[0], ordered[-1], q1, q3)

    def show(self, unit: str = "s", digits: int = 3) -> str:
        f = f"{{:.{digits}f}}"
        return (f"{f.format(self.median)} {unit} (min {f.format(self.low)}, max {f.format(self.high)}, "
                f"IQR {f.format(self.q1)}-{f.format(self.q3)}, n={self.n})")


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """a[i] / b[i] for runs taken as a pair (one right after the other, order alternating)."""
    return [a / b for a, b in zip(numerators, denominators) if b > 0]
