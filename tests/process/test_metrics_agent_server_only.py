"""METRICS=prometheus reaches the exec'd kafka-server-start.sh only: the format JVM never gets the
agent (it would bind the same port), a user's KAFKA_OPTS stays first, and a missing agent exits 2
before anything is written."""

from __future__ import annotations

from .support import FakeKafka, run


def _kafka_opts(fake: FakeKafka, recorded: str) -> list[str]:
    return [
        line for line in (fake.calls / recorded).read_text().splitlines() if line.startswith("KAFKA_OPTS=")
    ]


def _agent(fake: FakeKafka) -> str:
    (fake.home / "metrics").mkdir(exist_ok=True)
    (fake.home / "metrics" / "jmx_prometheus_javaagent.jar").write_bytes(b"PK")
    (fake.home / "metrics" / "kafka-metrics.yml").write_text("rules: []\n")
    home = fake.home
    return f"-javaagent:{home}/metrics/jmx_prometheus_javaagent.jar=9500:{home}/metrics/kafka-metrics.yml"


def test_server_gets_the_agent_and_format_does_not(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """The server's KAFKA_OPTS ends with the agent after the user's options; the format's has none."""
    agent = _agent(fake)
    env = fake.env(base_environ, METRICS="prometheus", METRICS_PORT="9500", KAFKA_OPTS="-Duser.opt=1")
    result = run([], env)
    assert result.returncode == 0, result.stderr
    server = _kafka_opts(fake, "server.env")
    assert len(server) == 1
    assert server[0].startswith("KAFKA_OPTS=-Duser.opt=1 ")
    assert server[0].endswith(agent)
    assert all("javaagent" not in line for line in _kafka_opts(fake, "format-env.0"))
    assert "metrics: Prometheus on port 9500" in result.stderr


def test_metrics_off_adds_no_agent(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """Without METRICS the installation's agent is not used and nothing is logged about it."""
    _agent(fake)
    result = run([], fake.env(base_environ))
    assert result.returncode == 0, result.stderr
    assert all("javaagent" not in line for line in _kafka_opts(fake, "server.env"))
    assert "metrics:" not in result.stderr


def test_missing_agent_exits_2_before_any_write(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """METRICS=prometheus on an installation without the agent: exit 2 naming METRICS, no format."""
    result = run([], fake.env(base_environ, METRICS="prometheus"))
    assert result.returncode == 2
    assert "METRICS=prometheus needs the Prometheus JMX exporter agent" in result.stderr
    assert fake.format_calls() == []


def test_metrics_port_on_a_listener_exits_2(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A metrics port equal to the broker port is refused, naming METRICS_PORT."""
    _agent(fake)
    result = run([], fake.env(base_environ, METRICS="prometheus", METRICS_PORT="9092"))
    assert result.returncode == 2
    assert "METRICS_PORT (--metrics-port)=9092 is already a listener's port" in result.stderr
