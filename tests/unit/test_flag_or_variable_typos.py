"""The value-less flags of the checks give what their variable gives, and win over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Cli, Outcome, valid_env

# (variable, flag, the variable's value the flag means, the other value, an input that makes them differ)
FLAG_OPTIONS = [
    ("STRICT", "--strict", "true", "false", "typo"),
    ("KAFKA_UNTESTED", "--allow-untested-kafka", "allow", "refuse", "kafka 5"),
]


def _base(tmp_path: Path, template_path: Path, difference: str) -> dict[str, str]:
    (tmp_path / "share").mkdir()
    env = valid_env(tmp_path, template_path)
    if difference == "typo":
        env["TLS_DIRS"] = "/etc/kafka/tls"
    else:
        del env["KAFKA_VERSION"]  # read from libs/
        (tmp_path / "kafka" / "libs").mkdir(parents=True)
        (tmp_path / "kafka" / "libs" / "kafka_2.13-5.0.0.jar").write_bytes(b"")
    return env


def _key(outcome: Outcome) -> tuple[int, bytes, str, bool]:
    return outcome.exit_code, outcome.stdout, outcome.log, outcome.exception is None


@pytest.mark.parametrize(
    ("variable", "flag", "on", "off", "difference"), FLAG_OPTIONS, ids=[o[0] for o in FLAG_OPTIONS]
)
def test_flag_is_its_variables_value(
    variable: str,
    flag: str,
    on: str,
    off: str,
    difference: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """The flag gives what VARIABLE=<its value> gives; without either, the default (the other value)."""
    base = _base(tmp_path, template_path, difference)
    by_flag = cli.run(["--dry-run", flag], base)
    by_variable = cli.run(["--dry-run"], {**base, variable: on})
    unset = cli.run(["--dry-run"], base)
    off_ = cli.run(["--dry-run"], {**base, variable: off})
    assert _key(by_flag) == _key(by_variable)
    assert _key(unset) == _key(off_)
    assert _key(by_flag) != _key(unset), "the two values must be told apart"
    assert {by_flag.exit_code, unset.exit_code} == {0, 2}


@pytest.mark.parametrize(
    ("variable", "flag", "on", "off", "difference"), FLAG_OPTIONS, ids=[o[0] for o in FLAG_OPTIONS]
)
def test_flag_wins_over_variable(
    variable: str,
    flag: str,
    on: str,
    off: str,
    difference: str,
    cli: Cli,
    tmp_path: Path,
    template_path: Path,
) -> None:
    """With the flag given and the variable set to the other value, the flag's value is used."""
    base = _base(tmp_path, template_path, difference)
    assert _key(cli.run(["--dry-run", flag], {**base, variable: off})) == _key(
        cli.run(["--dry-run"], {**base, variable: on})
    )
