"""Shared fixtures of the unit and process suites: the template, a clean environment, hypothesis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"

# Every variable of SPEC.md's table (written out here, not taken from the package under test).
SPEC_VARIABLES = (
    "HOSTNAME",
    "REPLICAS",
    "CONTROLLER_REPLICAS",
    "SERVICE",
    "NAMESPACE",
    "CLUSTER_DOMAIN",
    "SHARE_DIR",
    "DATA_DIR",
    "CLUSTER_ID",
    "CLUSTER_ID_TIMEOUT",
    "BROKER_PORT",
    "CONTROLLER_PORT",
    "KAFKA_HOME",
    "KRAFT_TEMPLATE",
    "KRAFT_CONFIG",
    "TLS_DIR",
    "SASL_USERS_DIR",
    "SASL_INTER_BROKER_USER",
    "TLS_CLIENT_AUTH",
    "AUTHORIZATION",
    "SUPER_USERS",
    "EXTERNAL_HOST",
    "EXTERNAL_PORT",
    "EXTERNAL_ADVERTISED_PORT",
    "EXTERNAL_PORT_BASE",
    "QUORUM",
    "CONTROLLER_STATEFULSET",
    "CONTROLLER_SERVICE",
    "BROKER_ID_OFFSET",
    "MEMORY_LIMIT",
    "HEAP_PERCENT",
    "METRICS",
    "METRICS_PORT",
    "PROBE_TIMEOUT",
)

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def spec_variables() -> tuple[str, ...]:
    """The entrypoint's variables, as SPEC.md lists them."""
    return SPEC_VARIABLES


@pytest.fixture(scope="session")
def base_environ() -> dict[str, str]:
    """This process's environment without any input of the entrypoint (a shell's HOSTNAME...)."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in SPEC_VARIABLES and not key.startswith("KAFKA_CFG_")
    }


@pytest.fixture(scope="session")
def template_path() -> Path:
    """Kafka 3.3.2's config/kraft/server.properties."""
    return FIXTURES / "server.properties"
