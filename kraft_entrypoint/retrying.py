"""The one place tenacity is used: call until success, a permanent error, or the deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")


class NotYet(Exception):
    """A transient condition worth waiting out; the message says what is awaited."""


def call_until(
    attempt: Callable[[], T],
    *,
    timeout: float,
    on_first_wait: Callable[[NotYet], None],
    initial_wait: float = 0.05,
    max_wait: float = 5.0,
) -> T:
    """Call ``attempt`` until it returns, retrying NotYet with jittered backoff for ``timeout`` s.

    Re-raises the last NotYet when time is up; any other exception ends the wait at once.
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if state.attempt_number == 1 and state.outcome is not None:
            error = state.outcome.exception()
            if isinstance(error, NotYet):
                on_first_wait(error)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_exponential(multiplier=initial_wait, max=max_wait)
        + tenacity.wait_random(0, initial_wait),
        retry=tenacity.retry_if_exception_type(NotYet),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)
