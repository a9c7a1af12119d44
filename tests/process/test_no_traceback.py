"""The real program never prints a Python traceback, whatever the inputs (property-based, few examples)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from .support import run

TEMPLATE = Path(__file__).parent.parent / "fixtures" / "server.properties"


@settings(max_examples=25)
@given(data=st.data())
def test_dry_run_never_prints_a_traceback(
    data: st.DataObject, base_environ: dict[str, str], spec_variables: tuple[str, ...]
) -> None:
    """Exit 0 or 2 and no traceback for arbitrary bytes in the variables of a valid environment."""
    # KAFKA_HOME and KRAFT_TEMPLATE stay valid, so every run reaches the end of the pipeline.
    variables = [v for v in spec_variables if v not in ("KAFKA_HOME", "KRAFT_TEMPLATE")]
    variables += ["KAFKA_CFG_NODE_ID", "KAFKA_CFG_X__Y"]
    values = st.binary(max_size=30).map(lambda b: b.replace(b"\0", b""))
    changes = data.draw(st.dictionaries(st.sampled_from(variables), values, max_size=6))
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
        if name in variables and value.startswith("/"):
            env[name] = "/nonexistent-root" + value  # keep arbitrary paths away from real files
    result = run(["--dry-run"], env)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2), result.stderr
