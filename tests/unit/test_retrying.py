"""retrying.call_until: bounded waits that tests can turn down."""

from __future__ import annotations

import time

import pytest

from kraft_entrypoint.retrying import NotYet, call_until


def test_returns_after_transient_failures() -> None:
    """NotYet is retried until the attempt succeeds; the first wait is reported once."""
    calls: list[int] = []
    reported: list[str] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise NotYet(f"not yet {len(calls)}")
        return "done"

    assert (
        call_until(
            attempt,
            timeout=5,
            on_first_wait=lambda e: reported.append(str(e)),
            initial_wait=0.001,
            max_wait=0.01,
        )
        == "done"
    )
    assert len(calls) == 4
    assert reported == ["not yet 1"]


@pytest.mark.parametrize("timeout", [0.3, 0.6], ids=["0.3s", "0.6s"])
def test_gives_up_after_timeout_with_last_reason(timeout: float) -> None:
    """When time is up the last NotYet is raised, not much later than the timeout."""
    count = [0]

    def attempt() -> None:
        count[0] += 1
        raise NotYet(f"attempt {count[0]}")

    started = time.monotonic()
    with pytest.raises(NotYet) as raised:
        call_until(attempt, timeout=timeout, on_first_wait=lambda e: None, initial_wait=0.01, max_wait=0.05)
    elapsed = time.monotonic() - started
    assert timeout <= elapsed < timeout + 0.5
    assert str(raised.value) == f"attempt {count[0]}"
    assert count[0] > 2


def test_other_errors_end_the_wait_at_once() -> None:
    """Any other exception propagates on the first attempt."""
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise KeyError("permanent")

    with pytest.raises(KeyError):
        call_until(attempt, timeout=10, on_first_wait=lambda e: None)
    assert calls == [1]


def test_zero_timeout_tries_once() -> None:
    """A timeout of 0 makes one attempt and no wait."""
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise NotYet("no")

    started = time.monotonic()
    with pytest.raises(NotYet):
        call_until(attempt, timeout=0, on_first_wait=lambda e: None)
    assert calls == [1]
    assert time.monotonic() - started < 0.2
