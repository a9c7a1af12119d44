"""A KAFKA_CFG_* value with control characters reaches Kafka exactly: the generated file, loaded
by Kafka's own Utils.loadProps, gives the value back byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def test_control_characters_in_an_override_reach_kafka_unchanged(kafka_home: Path, tmp_path: Path) -> None:
    value = "line one\nkraft-entrypoint ERROR: forged\r\ttab \\ back=slash: é"
    config = tmp_path / "server.properties"
    (tmp_path / "share").mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOSTNAME": "kafka-0",
        "REPLICAS": "3",
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": str(tmp_path / "share"),
        "CLUSTER_ID": "q1Sh-9_ISia_zwGINzRvyQ",
        "KAFKA_HOME": str(kafka_home),
        "KRAFT_CONFIG": str(config),
        "MEMORY_LIMIT": "2Gi",
        "KAFKA_CFG_SOME_DESCRIPTION": value,
    }
    dry = subprocess.run([sys.executable, "-m", "kraft_entrypoint", "--dry-run"], env=env,
                         capture_output=True, timeout=60, check=False)
    assert dry.returncode == 0, dry.stderr.decode()
    config.write_bytes(dry.stdout)  # exactly what a start writes (no secret here to mask)
    read = subprocess.run(
        ["java", "-cp", f"{kafka_home}/libs/*", str(FIXTURES / "ReadProperty.java"), str(config),
         "some.description"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert bytes.fromhex(read.stdout.strip()).decode("utf-8") == value
