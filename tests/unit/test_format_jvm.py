"""The format JVM's environment (kraft_entrypoint.format_jvm): its small heap, C1 only unless the
user set the start-up flags, no JMX agent, the server's JMX_PORT not passed on."""

from __future__ import annotations

from kraft_entrypoint.format_jvm import (
    FORMAT_HEAP_OPTS,
    KAFKA_PERFORMANCE_OPTS,
    NO_JMX_AGENT,
    environment,
)


def test_format_jvm_heap_is_small() -> None:
    """The format JVM's heap stays far below the smallest server heap."""
    assert FORMAT_HEAP_OPTS == "-Xmx128m"


def test_format_jvm_gets_c1_only_and_no_jmx_agent() -> None:
    """Kafka's own start-up flags plus -XX:TieredStopAtLevel=1; the rest of the environment kept."""
    assert environment({"PATH": "/bin", "KAFKA_OPTS": "-Dx=1"}) == ({
        "PATH": "/bin",
        "KAFKA_OPTS": "-Dx=1",
        "KAFKA_HEAP_OPTS": "-Xmx128m",
        "KAFKA_JMX_OPTS": NO_JMX_AGENT,
        "KAFKA_JVM_PERFORMANCE_OPTS": f"{KAFKA_PERFORMANCE_OPTS} -XX:TieredStopAtLevel=1",
    }, "its JVM: -Xmx128m, C1 only, no JMX agent")


def test_the_users_flags_are_kept_but_not_the_servers_heap_or_jmx() -> None:
    """A KAFKA_JVM_PERFORMANCE_OPTS the user set is for both JVMs; KAFKA_HEAP_OPTS, KAFKA_JMX_OPTS
    and JMX_PORT are the server's: the format JVM gets its own heap and no agent."""
    given = {"KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseZGC", "KAFKA_HEAP_OPTS": "-Xmx8g", "JMX_PORT": "9999",
             "KAFKA_JMX_OPTS": "-Dcom.sun.management.jmxremote.port=9999"}
    assert environment(given) == (
        {"KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseZGC", "KAFKA_HEAP_OPTS": "-Xmx128m",
         "KAFKA_JMX_OPTS": NO_JMX_AGENT},
        "its JVM: -Xmx128m, KAFKA_JVM_PERFORMANCE_OPTS as given, no JMX agent",
    )


def test_no_jmx_agent_is_a_value_the_scripts_keep_and_names_no_jmx_property() -> None:
    """kafka-run-class.sh replaces an empty KAFKA_JMX_OPTS by its default; the JVM starts the agent
    for any com.sun.management.jmxremote property."""
    assert NO_JMX_AGENT.strip()
    assert "com.sun.management" not in NO_JMX_AGENT
    assert len(NO_JMX_AGENT.split()) == 1

