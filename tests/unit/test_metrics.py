"""METRICS / METRICS_PORT: parsing, the server's -javaagent option (pure) and the installation facts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from kraft_entrypoint import metrics
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.installation import metrics_files

HOME = "/opt/kafka"
COMPLETE = metrics.Installation(HOME, has_agent=True, has_rules=True)


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, False), ("", False), ("off", False), ("OFF", False), ("prometheus", True),
     (" Prometheus ", True)],
    ids=["unset", "empty", "off", "OFF", "prometheus", "padded-mixed-case"],
)
def test_mode_values(value: Optional[str], enabled: bool) -> None:
    """METRICS is off unless it says prometheus (case and padding do not matter)."""
    assert metrics.parse_mode(value) is enabled


@pytest.mark.parametrize("value", ["on", "true", "jmx", "prometheus,jmx"])
def test_an_unknown_mode_is_refused_naming_the_variable(value: str) -> None:
    """Anything else is invalid input (exit 2) naming METRICS and the value."""
    with pytest.raises(InvalidInput, match=r"METRICS \(--metrics\) must be off or prometheus") as caught:
        metrics.parse_mode(value)
    assert repr(value) in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("value", "port"), [(None, 9404), ("", 9404), ("9404", 9404), (" 7071 ", 7071),
                                             ("1", 1), ("65535", 65535)])
def test_port_values(value: Optional[str], port: int) -> None:
    """METRICS_PORT defaults to 9404 and takes any port number."""
    assert metrics.parse_port(value) == port


@pytest.mark.parametrize("value", ["0", "65536", "-1", "94o4", "9404.0", "http"])
def test_a_bad_port_is_refused_naming_the_variable(value: str) -> None:
    """A value that is no port number 1-65535 is invalid input naming METRICS_PORT."""
    with pytest.raises(InvalidInput, match=r"METRICS_PORT \(--metrics-port\)"):
        metrics.parse_port(value)


def test_off_adds_no_option_even_with_the_agent_installed() -> None:
    """METRICS off: no agent, no port, KAFKA_OPTS untouched."""
    assert metrics.server_option(False, 9404, COMPLETE) is None
    assert metrics.server_kafka_opts({"KAFKA_OPTS": "-Dx=1"}, None) is None


def test_off_does_not_need_the_agent() -> None:
    """An installation without the agent is fine while METRICS is off."""
    assert metrics.server_option(False, 9404, metrics.Installation(HOME, False, False)) is None


def test_on_gives_the_agent_with_port_and_rules() -> None:
    """METRICS=prometheus: -javaagent:<jar>=<port>:<rules>, both under KAFKA_HOME/metrics."""
    assert metrics.server_option(True, 7071, COMPLETE) == (
        "-javaagent:/opt/kafka/metrics/jmx_prometheus_javaagent.jar=7071:/opt/kafka/metrics/kafka-metrics.yml"
    )


def test_a_trailing_slash_of_kafka_home_is_not_doubled() -> None:
    """KAFKA_HOME=/opt/kafka/ gives the same paths as /opt/kafka."""
    found = metrics.Installation("/opt/kafka/", True, True)
    assert metrics.server_option(True, 9404, found) == metrics.server_option(True, 9404, COMPLETE)


@pytest.mark.parametrize(
    ("has_agent", "has_rules", "named"),
    [
        (False, True, ["/opt/kafka/metrics/jmx_prometheus_javaagent.jar"]),
        (True, False, ["/opt/kafka/metrics/kafka-metrics.yml"]),
        (False, False, ["/opt/kafka/metrics/jmx_prometheus_javaagent.jar",
                        "/opt/kafka/metrics/kafka-metrics.yml"]),
    ],
    ids=["no-agent", "no-rules", "neither"],
)
def test_on_without_the_agent_is_refused_naming_metrics(
    has_agent: bool, has_rules: bool, named: list[str]
) -> None:
    """METRICS=prometheus on an installation without agent or rules: exit 2, naming METRICS and the file."""
    with pytest.raises(InvalidInput) as caught:
        metrics.server_option(True, 9404, metrics.Installation(HOME, has_agent, has_rules))
    message = str(caught.value)
    assert message.startswith("METRICS=prometheus needs the Prometheus JMX exporter agent")
    assert "METRICS=off" in message
    for path in named:
        assert path in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("home", ["/opt/my kafka", "/opt/kafka:1", "/opt/ka\tfka"])
def test_a_home_the_option_cannot_carry_is_refused(home: str) -> None:
    """White space (KAFKA_OPTS is split on it) or ':' (the agent splits its argument) is refused."""
    with pytest.raises(InvalidInput, match="white space or ':'"):
        metrics.server_option(True, 9404, metrics.Installation(home, True, True))


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "-javaagent:x"), ({"KAFKA_OPTS": "  "}, "-javaagent:x"),
     ({"KAFKA_OPTS": " -Dfoo=1 "}, "-Dfoo=1 -javaagent:x")],
    ids=["unset", "blank", "kept-first"],
)
def test_the_option_is_appended_to_the_users_kafka_opts(env: dict[str, str], expected: str) -> None:
    """The user's KAFKA_OPTS stays first and whole; the agent comes after it."""
    assert metrics.server_kafka_opts(env, "-javaagent:x") == expected


def test_installation_facts_are_the_two_files(tmp_path: Path) -> None:
    """installation.metrics_files() reports exactly which of the agent jar and the rules file exist."""
    assert metrics_files(str(tmp_path)) == metrics.Installation(str(tmp_path), False, False)
    (tmp_path / "metrics").mkdir()
    (tmp_path / metrics.RULES_FILE).write_text("rules: []\n")
    assert metrics_files(str(tmp_path)) == metrics.Installation(str(tmp_path), False, True)
    (tmp_path / metrics.AGENT_JAR).mkdir()  # a directory is not the jar
    assert metrics_files(str(tmp_path)).has_agent is False
    (tmp_path / metrics.AGENT_JAR).rmdir()
    (tmp_path / metrics.AGENT_JAR).write_bytes(b"PK\x03\x04")
    assert metrics_files(str(tmp_path)) == metrics.Installation(str(tmp_path), True, True)
