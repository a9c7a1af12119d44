"""MEMORY_LIMIT and HEAP_PERCENT on the command line: flag = variable, a flag wins, the heap the
start logs, and the refusals (exit 2 naming the input) before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Cli, Outcome, valid_env

# (variable, flag, companions, a, b)
MEMORY_OPTIONS = [
    ("MEMORY_LIMIT", "--memory-limit", {}, "2Gi", "3000M"),
    ("HEAP_PERCENT", "--heap-percent", {"MEMORY_LIMIT": "4Gi"}, "50", "25"),
]


def _key(outcome: Outcome) -> tuple[int, bytes, str, bool]:
    return outcome.exit_code, outcome.stdout, outcome.log, outcome.exception is None


def _heap_lines(outcome: Outcome) -> list[str]:
    return [line for line in outcome.log.splitlines() if line.startswith("INFO: heap: ")]


@pytest.mark.parametrize(
    ("variable", "flag", "companions", "a", "b"), MEMORY_OPTIONS, ids=[o[0] for o in MEMORY_OPTIONS]
)
def test_memory_flag_and_variable_are_equivalent(
    variable: str,
    flag: str,
    companions: dict[str, str],
    a: str,
    b: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """--dry-run logs the same heap by flag or variable, a flag wins, and the two values differ."""
    base = valid_env(tmp_path, template_path, **companions)
    by_variable_a = cli.run(["--dry-run"], {**base, variable: a})
    by_flag_a = cli.run(["--dry-run", f"{flag}={a}"], base)
    by_variable_b = cli.run(["--dry-run"], {**base, variable: b})
    flag_wins = cli.run(["--dry-run", flag, b], {**base, variable: a})
    assert _key(by_variable_a) == _key(by_flag_a)
    assert _key(flag_wins) == _key(by_variable_b)
    assert _heap_lines(by_variable_a) != _heap_lines(by_variable_b)
    assert by_variable_a.exit_code == 0, by_variable_a.log


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        pytest.param(
            {"MEMORY_LIMIT": "2Gi"}, "heap: -Xms1024m -Xmx1024m, 50% of MEMORY_LIMIT 2048 MiB", id="2Gi"
        ),
        pytest.param(
            {"MEMORY_LIMIT": "1500M", "HEAP_PERCENT": "40"},
            "heap: -Xms572m -Xmx572m, 40% of MEMORY_LIMIT 1430 MiB",
            id="1500M-40",
        ),
        pytest.param(
            {"MEMORY_LIMIT": "2Gi", "KAFKA_HEAP_OPTS": "-Xmx700m"},
            "heap: KAFKA_HEAP_OPTS=-Xmx700m as given",
            id="heap-opts-given",
        ),
    ],
)
def test_the_start_logs_its_heap(
    changes: dict[str, str],
    line: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One line says the heap and where it came from."""
    heap_opts = changes.pop("KAFKA_HEAP_OPTS", None)
    if heap_opts is None:
        monkeypatch.delenv("KAFKA_HEAP_OPTS", raising=False)
    else:
        monkeypatch.setenv("KAFKA_HEAP_OPTS", heap_opts)
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, **changes))
    assert outcome.exit_code == 0, outcome.log
    assert _heap_lines(outcome) == [f"INFO: {line}"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        pytest.param({"MEMORY_LIMIT": "lots"}, "MEMORY_LIMIT (--memory-limit)", id="bad-quantity"),
        pytest.param(
            {"MEMORY_LIMIT": "2Gi", "HEAP_PERCENT": "120"}, "HEAP_PERCENT (--heap-percent)", id="pct"
        ),
        pytest.param({"MEMORY_LIMIT": "400Mi"}, "HEAP_PERCENT", id="leaves-too-little"),
    ],
)
def test_memory_refusals_exit_2_before_writing(
    changes: dict[str, str],
    named: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Invalid memory inputs, or a heap leaving under 256 MiB, exit 2 naming the input; nothing written."""
    monkeypatch.delenv("KAFKA_HEAP_OPTS", raising=False)
    outcome = cli.run([], valid_env(tmp_path, template_path, **changes))
    assert outcome.exit_code == 2, outcome.log
    assert named in outcome.log
    assert not (tmp_path / "config").exists()
    assert not (tmp_path / "share").exists() or not any((tmp_path / "share").iterdir())
