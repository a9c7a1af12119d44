"""With no security or external input, the output is byte-identical to the last release's."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Cli

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("pod", "quorum"), [("kafka-0", {"REPLICAS": "3"}), ("kafka-4", {"CONTROLLER_REPLICAS": "3"})]
)
def test_plaintext_output_is_unchanged(
    pod: str, quorum: dict[str, str], cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """tests/fixtures/plaintext/<pod>.properties was printed by release 0.1.0 for the same inputs."""
    template = tmp_path / "tpl" / "server.properties"
    template.parent.mkdir()
    template.write_bytes(template_path.read_bytes())
    env = {
        "HOSTNAME": pod,
        **quorum,
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": "/tmp/nonexistent-share",
        "KAFKA_HOME": "/opt/kafka",  # not on this machine: KAFKA_VERSION names the release
        "KAFKA_VERSION": "3.3.2",
        "KRAFT_TEMPLATE": str(template),
        "KRAFT_CONFIG": "/tmp/nonexistent-config/server.properties",
    }
    outcome = cli.run(["--dry-run"], env)
    assert outcome.exit_code == 0, outcome.log
    expected = (
        (FIXTURES / "plaintext" / f"{pod}.properties")
        .read_bytes()
        .replace(b"@TEMPLATE@", str(template).encode())
    )
    assert outcome.stdout == expected
