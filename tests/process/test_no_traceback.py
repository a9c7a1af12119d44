"""The real program never prints a Python traceback, whatever the inputs (property-based, few examples)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from .support import run

VARIABLES = (
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
    "KRAFT_CONFIG",
    "KAFKA_CFG_NODE_ID",
    "KAFKA_CFG_X__Y",
)
TEMPLATE = Path(__file__).parent.parent / "fixtures" / "server.properties"


@settings(max_examples=25)
@given(
    changes=st.dictionaries(
        st.sampled_from(VARIABLES), st.binary(max_size=30).map(lambda b: b.replace(b"\0", b"")), max_size=6
    )
)
def test_dry_run_never_prints_a_traceback(changes: dict[str, bytes], base_environ: dict[str, str]) -> None:
    """Exit 0 or 2 and no traceback for arbitrary bytes in the variables of a valid environment."""
    env = {
        **base_environ,
        "HOSTNAME": "kafka-0",
        "REPLICAS": "3",
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": "/nonexistent-share",
        "KRAFT_TEMPLATE": str(TEMPLATE),
    }
    env.update({name: value.decode("utf-8", "surrogateescape") for name, value in changes.items()})
    for name, value in list(env.items()):
        if name in VARIABLES and value.startswith("/"):
            env[name] = "/nonexistent-root" + value  # keep arbitrary paths away from real files
    result = run(["--dry-run"], env)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2), result.stderr
