"""Each option gives the same result as flag or as variable, and a flag wins over its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import OTHER_ID, VALID_ID, Cli, Outcome, valid_env

# (variable, flag, value a, value b): a and b give different results; "{tmp}" is the test's tmp dir.
OPTIONS = [
    ("HOSTNAME", "--hostname", "kafka-1", "kafka-2"),
    ("REPLICAS", "--replicas", "4", "5"),
    ("CONTROLLER_REPLICAS", "--controller-replicas", "1", "2"),
    ("SERVICE", "--service", "svc-a", "svc-b"),
    ("NAMESPACE", "--namespace", "ns-a", "ns-b"),
    ("CLUSTER_DOMAIN", "--cluster-domain", "a.example", "b.example"),
    ("SHARE_DIR", "--share-dir", "{tmp}/share-a", "{tmp}/share-b"),
    ("DATA_DIR", "--data-dir", "{tmp}/data-a", "{tmp}/data-b"),
    ("CLUSTER_ID", "--cluster-id", VALID_ID, OTHER_ID),
    ("CLUSTER_ID_TIMEOUT", "--cluster-id-timeout", "never", "10"),
    ("BROKER_PORT", "--broker-port", "19092", "29092"),
    ("CONTROLLER_PORT", "--controller-port", "19093", "29093"),
    ("KAFKA_HOME", "--kafka-home", "{tmp}/home-a", "{tmp}/home-b"),
    ("KRAFT_TEMPLATE", "--template", "{tmp}/template-a", "{tmp}/template-b"),
    ("KRAFT_CONFIG", "--config", "{tmp}/config-a", "{tmp}/config-b"),
    ("KRAFT_CDS", "--cds", "sometimes", "off"),
    ("KAFKA_VERSION", "--kafka-version", "3.2.3", "3.9.2"),
    ("MEMORY_LIMIT", "--memory-limit", "2Gi", "4Gi"),
    ("HEAP_PERCENT", "--heap-percent", "101", "60"),
    ("METRICS", "--metrics", "prometheus", "off"),
    ("METRICS_PORT", "--metrics-port", "not-a-port", "9500"),
    ("RACK", "--rack", "rack-a", "rack-b"),
    ("RACK_FILE", "--rack-file", "{tmp}/rack-a", "{tmp}/rack-b"),
]


def _base(tmp_path: Path, template_path: Path, variable: str) -> dict[str, str]:
    for name in ("a", "b"):  # two templates that differ in one key
        (tmp_path / f"template-{name}").write_bytes(
            template_path.read_bytes() + f"x.template={name}\n".encode()
        )
        (tmp_path / f"rack-{name}").write_text(f"zone-{name}\n")
    (tmp_path / "share").mkdir()
    env = valid_env(tmp_path, template_path, HOSTNAME="kafka-3", REPLICAS="6")
    env.pop(variable, None)
    return env


def _key(outcome: Outcome) -> tuple[int, bytes, str, bool]:
    return outcome.exit_code, outcome.stdout, outcome.log, outcome.exception is None


@pytest.mark.parametrize(("variable", "flag", "a", "b"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_flag_and_variable_are_equivalent(
    variable: str, flag: str, a: str, b: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """--dry-run gives the same exit code, stdout and log whether the option is a flag or a variable."""
    base = _base(tmp_path, template_path, variable)
    a, b = a.format(tmp=tmp_path), b.format(tmp=tmp_path)
    by_variable_a = cli.run(["--dry-run"], {**base, variable: a})
    by_flag_a = cli.run(["--dry-run", f"{flag}={a}"], base)
    by_flag_b = cli.run(["--dry-run", flag, b], base)
    by_variable_b = cli.run(["--dry-run"], {**base, variable: b})
    assert _key(by_variable_a) == _key(by_flag_a)
    assert _key(by_variable_b) == _key(by_flag_b)
    assert _key(by_variable_a) != _key(by_variable_b), "the two values must be told apart"
    assert by_variable_b.exit_code == 0, by_variable_b.log


@pytest.mark.parametrize(("variable", "flag", "a", "b"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_flag_wins_over_variable(
    variable: str, flag: str, a: str, b: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """With both set, the flag's value is used and the variable's ignored."""
    base = _base(tmp_path, template_path, variable)
    a, b = a.format(tmp=tmp_path), b.format(tmp=tmp_path)
    both = cli.run(["--dry-run", flag, b], {**base, variable: a})
    assert _key(both) == _key(cli.run(["--dry-run"], {**base, variable: b}))
    reverse = cli.run(["--dry-run", flag, a], {**base, variable: b})
    assert _key(reverse) == _key(cli.run(["--dry-run"], {**base, variable: a}))


def test_help_lists_every_variable(cli: Cli, spec_variables: tuple[str, ...]) -> None:
    """--help exits 0 and names every variable of SPEC.md, each flag, and KAFKA_CFG_."""
    outcome = cli.run(["--help"], {})
    text = outcome.stdout.decode()
    assert outcome.exit_code == 0
    for variable in spec_variables:
        assert variable in text
    for _, flag, _, _ in OPTIONS:
        assert flag in text
    assert "KAFKA_CFG_" in text
    assert "--dry-run" in text


def test_help_shows_defaults(cli: Cli) -> None:
    """--help shows SPEC.md's defaults (cluster.local, 300, 9092, 9093, /opt/kafka)."""
    text = cli.run(["--help"], {}).stdout.decode()
    for default in ("cluster.local", "300", "9092", "9093", "/opt/kafka"):
        assert default in text


def test_version(cli: Cli) -> None:
    """--version exits 0 and prints a version number."""
    outcome = cli.run(["--version"], {})
    assert outcome.exit_code == 0
    assert any(ch.isdigit() for ch in outcome.stdout.decode()), outcome.stdout


def test_every_start_option_is_in_a_flag_table() -> None:
    """Each option of the start command is checked flag = variable here or in the listeners' table."""
    from kraft_entrypoint import options

    from .test_flag_or_variable_listeners_security_quorum import NEW_OPTIONS as LISTENER_OPTIONS
    from .test_flag_or_variable_typos import FLAG_OPTIONS

    tabled = {row[0] for row in OPTIONS} | {row[0] for row in LISTENER_OPTIONS}
    tabled |= {row[0] for row in FLAG_OPTIONS}
    start_options = {o.variable for o in options.OPTIONS if o.command == options.START}
    assert start_options - tabled == set()
