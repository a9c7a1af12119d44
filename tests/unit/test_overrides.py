"""KAFKA_CFG_* overrides: names, precedence, order, masking, and the file Kafka reads back."""

from __future__ import annotations

from pathlib import Path

import jproperties
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraft_entrypoint.fields import parse_overrides

from .support import Cli, valid_env

FIXTURES = Path(__file__).parent.parent / "fixtures"

NAMES = [
    ("KAFKA_CFG_LOG_RETENTION_HOURS", "log.retention.hours"),
    ("KAFKA_CFG_FOO__BAR", "foo_bar"),
    ("KAFKA_CFG_FOO___BAR", "foo-bar"),
    ("KAFKA_CFG_A___B__C_D", "a-b_c.d"),
    ("KAFKA_CFG_NUM_PARTITIONS", "num.partitions"),
    ("KAFKA_CFG_lower_case", "lower.case"),
    ("KAFKA_CFG_X", "x"),
    ("KAFKA_CFG_SASL_JAAS_CONFIG", "sasl.jaas.config"),
    (
        "KAFKA_CFG_LISTENER_NAME_SASL__SSL_PLAIN_SASL_JAAS_CONFIG",
        "listener.name.sasl_ssl.plain.sasl.jaas.config",
    ),
    ("KAFKA_CFG_A1_2B", "a1.2b"),
]


def _read(data: bytes) -> dict[str, str]:
    loaded = jproperties.Properties()
    loaded.load(data, "iso-8859-1")
    return {key: loaded[key].data for key in loaded}


def _keys(data: bytes) -> list[str]:
    loaded = jproperties.Properties()
    loaded.load(data, "iso-8859-1")
    return list(loaded)


@pytest.mark.parametrize(("variable", "key"), NAMES, ids=[n[0] for n in NAMES])
def test_override_name_mapping(variable: str, key: str) -> None:
    """KAFKA_CFG_ stripped, lower-cased, ___ -> -, __ -> _, _ -> ."""
    (override,) = parse_overrides({variable: "v", "OTHER": "x", "KAFKA_CFGX": "y"})
    assert (override.variable, override.key, override.value) == (variable, key, "v")


def test_other_variables_are_not_overrides() -> None:
    """Only names starting with KAFKA_CFG_ become properties."""
    assert parse_overrides({"KAFKA_HEAP_OPTS": "-Xmx1G", "kafka_cfg_x": "1", "HOSTNAME": "kafka-0"}) == ()


def test_overrides_win_and_keep_order(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """Overrides replace derived and template values in place; new keys come after the template's."""
    env = valid_env(
        tmp_path,
        template_path,
        KAFKA_CFG_ADVERTISED_LISTENERS="PLAINTEXT://kafka.example.com:9092",
        KAFKA_CFG_NUM_PARTITIONS="6",
        KAFKA_CFG_AUTO_CREATE_TOPICS_ENABLE="false",
        KAFKA_CFG_LOG_RETENTION_HOURS="24",
    )
    outcome = cli.run(["--dry-run"], env)
    assert outcome.exit_code == 0, outcome.log
    values, keys = _read(outcome.stdout), _keys(outcome.stdout)
    template_keys = _keys(template_path.read_bytes())
    assert keys[: len(template_keys)] == template_keys
    assert keys[len(template_keys) :] == ["auto.create.topics.enable"]
    assert values["advertised.listeners"] == "PLAINTEXT://kafka.example.com:9092"
    assert values["num.partitions"] == "6"
    assert values["log.retention.hours"] == "24"
    assert values["auto.create.topics.enable"] == "false"


def test_derived_keys_missing_from_template_are_appended(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """A template lacking the derived keys keeps its own keys first; the derived ones follow."""
    template = tmp_path / "small.properties"
    template.write_bytes(b"# small\nnum.partitions=3\nlog.retention.hours=1\n")
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, KRAFT_TEMPLATE=str(template)))
    keys = _keys(outcome.stdout)
    assert keys[:2] == ["num.partitions", "log.retention.hours"]
    assert {
        "node.id",
        "process.roles",
        "controller.quorum.voters",
        "listeners",
        "advertised.listeners",
        "controller.listener.names",
        "inter.broker.listener.name",
        "listener.security.protocol.map",
        "log.dirs",
    } == set(keys[2:])


def test_read_back_gives_exactly_the_intended_values(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """jproperties reads the output back to exactly template + derived + overrides, escapes included.

    --dry-run masks secret values; the written file (tests/process) holds them in clear."""
    tricky = "a:b=c d#e!f\\g\ttab é€ \U0001f600"
    env = valid_env(
        tmp_path,
        template_path,
        HOSTNAME="kafka-1",
        KAFKA_CFG_X_TRICKY=tricky,
        KAFKA_CFG_SASL_JAAS_CONFIG="org.apache.kafka.common.security.plain.PlainLoginModule "
        'required username="u" password="p=1:2";',
    )
    outcome = cli.run(["--dry-run"], env)
    assert outcome.exit_code == 0, outcome.log
    fqdn = "kafka-{}.kafka-svc.kafka-kraft.svc.cluster.local"
    expected = _read(template_path.read_bytes())
    expected.update(
        {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": ",".join(f"{i}@{fqdn.format(i)}:9093" for i in range(3)),
            "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
            "advertised.listeners": f"PLAINTEXT://{fqdn.format(1)}:9092",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
            "log.dirs": str(tmp_path / "share" / "1"),
            "x.tricky": tricky,
            "sasl.jaas.config": "******",
        }
    )
    assert _read(outcome.stdout) == expected
    assert b"\\:" in outcome.stdout
    assert b"\\=" in outcome.stdout
    outcome.stdout.decode("ascii")  # non-ASCII written as \uXXXX escapes


PASSWORD_KEYS = (FIXTURES / "kafka-3.3.2-password-keys.txt").read_text().split()
SECRET_KEYS = sorted({
    *PASSWORD_KEYS,  # every PASSWORD-type broker config of Kafka 3.3.2 (read from its configDef)
    *(f"listener.name.sasl_ssl.{key}" for key in PASSWORD_KEYS if key.startswith(("ssl.", "sasl."))),
    "my.secret.token",
    "listener.name.x.plain.sasl.jaas.config",
    "some.plugin.api.key",
})


def _variable(key: str) -> str:
    return "KAFKA_CFG_" + key.replace("_", "__").replace(".", "_").upper()


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_values_never_shown(key: str, cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """A secret override is masked in every log line and in --dry-run's output."""
    secret = "-----BEGIN PRIVATE KEY-----\\nMIIEs3cr3tVALUE42\\n-----END PRIVATE KEY-----"  # noqa: S105
    variable = _variable(key)
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, **{variable: secret}))
    assert outcome.exit_code == 0, outcome.log
    assert "s3cr3t" not in outcome.log
    assert b"s3cr3t" not in outcome.stdout
    assert variable in outcome.log
    assert key in outcome.log
    assert _read(outcome.stdout)[key] == "******"


def test_plain_override_logged_with_value(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """Each override is logged with its variable, key and (non-secret) value."""
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, KAFKA_CFG_NUM_PARTITIONS="12"))
    assert any(
        "KAFKA_CFG_NUM_PARTITIONS" in line and "num.partitions=12" in line
        for line in outcome.log.splitlines()
    )


def test_output_is_byte_identical_across_runs(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """The same inputs give the same bytes (no timestamp line), overrides in any environment order."""
    env = valid_env(tmp_path, template_path, KAFKA_CFG_B_KEY="2", KAFKA_CFG_A_KEY="1", KAFKA_CFG_C_KEY="3")
    reordered = dict(reversed(list(env.items())))
    first, second = cli.run(["--dry-run"], env), cli.run(["--dry-run"], reordered)
    assert first.exit_code == 0
    assert first.stdout == second.stdout
    assert not any(
        line.startswith(b"#") and any(d in line for d in (b"20", b"UTC", b"GMT"))
        for line in first.stdout.splitlines()[1:]
    )


@settings(max_examples=300)
@given(
    value=st.text(
        st.characters(codec="utf-8", blacklist_characters="\x00"), min_size=1
    ).filter(lambda v: v == v.strip())
)
def test_any_override_value_round_trips(
    value: str, cli: Cli, template_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever text an override carries, reading the output back yields that exact text."""
    tmp = tmp_path_factory.getbasetemp()
    outcome = cli.run(["--dry-run"], valid_env(tmp, template_path, KAFKA_CFG_SOME_VALUE=value))
    assert outcome.exit_code == 0, outcome.log
    assert _read(outcome.stdout)["some.value"] == value
