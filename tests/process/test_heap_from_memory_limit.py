"""The heap the exec'd kafka-server-start.sh gets (SPEC "Memory"), and the format JVM's own small
heap, recorded by the fake KAFKA_HOME's scripts."""

from __future__ import annotations

import pytest

from kraft_entrypoint.format_jvm import FORMAT_HEAP_OPTS, FORMAT_PERFORMANCE_OPTS, NO_JMX_AGENT

from .support import FakeKafka, run


def _recorded(fake: FakeKafka, recorded: str, variable: str) -> list[str]:
    """``variable=value`` lines of the environment a fake script recorded."""
    lines = (fake.calls / recorded).read_text().splitlines()
    return [line for line in lines if line.startswith(f"{variable}=")]


def _heap_of(fake: FakeKafka, recorded: str) -> list[str]:
    return _recorded(fake, recorded, "KAFKA_HEAP_OPTS")


@pytest.mark.parametrize(
    ("changes", "server_heap"),
    [
        pytest.param({"MEMORY_LIMIT": "2Gi"}, "-Xms1024m -Xmx1024m", id="half-of-2Gi"),
        pytest.param(
            {"MEMORY_LIMIT": "1073741824", "HEAP_PERCENT": "60"}, "-Xms614m -Xmx614m", id="bytes-60pct"
        ),
        pytest.param({"MEMORY_LIMIT": "2Gi", "KAFKA_HEAP_OPTS": "-Xmx3g"}, "-Xmx3g", id="heap-opts-as-given"),
    ],
)
def test_server_and_format_heaps(
    fake: FakeKafka, base_environ: dict[str, str], changes: dict[str, str], server_heap: str
) -> None:
    """kafka-server-start.sh gets the derived (or given) heap; kafka-storage.sh only its own small one."""
    env = fake.env({k: v for k, v in base_environ.items() if k != "KAFKA_HEAP_OPTS"}, **changes)
    result = run([], env)
    assert result.returncode == 0, result.stderr
    assert _heap_of(fake, "server.env") == [f"KAFKA_HEAP_OPTS={server_heap}"]
    assert _heap_of(fake, "format-env.0") == [f"KAFKA_HEAP_OPTS={FORMAT_HEAP_OPTS}"]
    assert (
        f"heap: {server_heap}" in result.stderr or f"KAFKA_HEAP_OPTS={server_heap} as given" in result.stderr
    )


def test_restart_without_format_still_sizes_the_server(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A second start (storage formatted) runs no format JVM and still execs with the heap."""
    env = fake.env({k: v for k, v in base_environ.items() if k != "KAFKA_HEAP_OPTS"}, MEMORY_LIMIT="3Gi")
    assert run([], env).returncode == 0
    second = run([], env)
    assert second.returncode == 0, second.stderr
    assert len(fake.format_calls()) == 1
    assert _heap_of(fake, "server.env") == ["KAFKA_HEAP_OPTS=-Xms1536m -Xmx1536m"]


def test_no_limit_keeps_kafkas_default_or_follows_the_cgroup(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """MEMORY_LIMIT unset: the cgroup's limit decides; with none (as on an unlimited host) the
    server gets no KAFKA_HEAP_OPTS and the log says Kafka's default is kept."""
    env = fake.env({k: v for k, v in base_environ.items() if k != "KAFKA_HEAP_OPTS"}, MEMORY_LIMIT="")
    result = run([], env)
    assert result.returncode == 0, result.stderr
    if "Kafka's default kept" in result.stderr:
        assert _heap_of(fake, "server.env") == []
    else:
        assert "of the cgroup's memory limit" in result.stderr
        assert len(_heap_of(fake, "server.env")) == 1
    assert _heap_of(fake, "format-env.0") == [f"KAFKA_HEAP_OPTS={FORMAT_HEAP_OPTS}"]


def test_heap_that_leaves_too_little_exits_2_and_starts_nothing(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """A 512 MiB limit at 80%: exit 2 naming HEAP_PERCENT and MEMORY_LIMIT; no format, no exec, no config."""
    env = fake.env(base_environ, MEMORY_LIMIT="512Mi", HEAP_PERCENT="80")
    result = run([], env)
    assert result.returncode == 2
    assert "HEAP_PERCENT" in result.stderr
    assert "MEMORY_LIMIT" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake.format_calls() == []
    assert fake.server_starts() == 0
    assert not fake.config.exists()


def test_format_jvm_gets_its_start_up_flags_and_the_server_does_not(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """kafka-storage.sh runs with C1 only (-XX:TieredStopAtLevel=1 on Kafka's own flags);
    kafka-server-start.sh keeps Kafka's default (KAFKA_JVM_PERFORMANCE_OPTS not set for it)."""
    env = fake.env({k: v for k, v in base_environ.items() if k != "KAFKA_JVM_PERFORMANCE_OPTS"})
    result = run([], env)
    assert result.returncode == 0, result.stderr
    assert _flags_of(fake, "format-env.0") == [f"KAFKA_JVM_PERFORMANCE_OPTS={FORMAT_PERFORMANCE_OPTS}"]
    assert _flags_of(fake, "server.env") == []


def _flags_of(fake: FakeKafka, recorded: str) -> list[str]:
    return _recorded(fake, recorded, "KAFKA_JVM_PERFORMANCE_OPTS")


def test_format_jvm_starts_no_jmx_agent_and_the_server_keeps_the_users_jmx(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """kafka-storage.sh gets a KAFKA_JMX_OPTS that starts no JMX agent and no JMX_PORT;
    kafka-server-start.sh gets the user's JMX variables as given."""
    user_jmx = "-Dcom.sun.management.jmxremote.port=9999 -Dcom.sun.management.jmxremote.rmi.port=9999"
    result = run([], fake.env(base_environ, JMX_PORT="9999", KAFKA_JMX_OPTS=user_jmx))
    assert result.returncode == 0, result.stderr
    assert _recorded(fake, "format-env.0", "KAFKA_JMX_OPTS") == [f"KAFKA_JMX_OPTS={NO_JMX_AGENT}"]
    assert _recorded(fake, "format-env.0", "JMX_PORT") == []
    assert _recorded(fake, "server.env", "KAFKA_JMX_OPTS") == [f"KAFKA_JMX_OPTS={user_jmx}"]
    assert _recorded(fake, "server.env", "JMX_PORT") == ["JMX_PORT=9999"]
    assert "(its JVM: -Xmx128m, C1 only, no JMX agent)" in result.stderr
