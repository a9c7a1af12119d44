"""SASL_MECHANISM=SCRAM-SHA-512 on real Kafka (SPEC.md, "Listeners, security and external access").

Three pods of the secure lab (TLS, ACLs, the users Secret) start from empty storage with SCRAM:
every user of the Secret is written into the new cluster's metadata at format, so the brokers
authenticate to each other (and the probe to its broker) with SCRAM from the first start. A SCRAM
client writes and reads; a wrong password and a PLAIN attempt with the admin's right password are
refused. A user added to the Secret after the format is logged at the next start with the
kafka-configs.sh command that adds it, and that command (password filled in) lets it in. No
password appears in anything the run printed (the format's own command line included).

4.4.0 in every run, 3.9.2 in the slow tier (KIP-900's --add-scram exists from 3.5; 3.3.2, the
image's default, refuses SCRAM with exit 2: tests/process)."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Callable

import pytest
from kafka_support import MATRIX, VOTERS, Dist, Report, close_labs, kraftlab, version_id
from probe_support import run_probe
from test_kafka_secure import (
    assert_no_secret_outside_secret_files,
    effective_config,
    failed_lines,
    grant,
    read_properties,
)

from kraft_entrypoint.kafka_versions import KafkaVersion, capabilities
from kraft_entrypoint.storage import SCRAM_RECORD
from kraftlab.secure import ADMIN, INTER_BROKER_USER, SecureLab

pytestmark = [pytest.mark.kafka]

MECHANISM = "SCRAM-SHA-512"
#: The matrix's releases that have SCRAM in KRaft (the add_scram fact): the newest in every run,
#: the others in the slow tier, as kafka_support.DEFAULT_THEN_SLOW does for the default version.
SCRAM_RELEASES = [v for v in MATRIX if capabilities(KafkaVersion.parse(v)).add_scram]
VERSIONS = [v if v == max(SCRAM_RELEASES, key=KafkaVersion.parse) else pytest.param(v, marks=pytest.mark.slow)
            for v in SCRAM_RELEASES]
TOPIC = "payments"
CLIENT = "alice"
LATE = "dave"  # added to the Secret after the format
#: What bin/kafka-configs.sh runs, per version (kafka_2.13 3.9.2 jar; kafka-tools 4.4.0 jar).
CONFIG_COMMAND = {"3.9.2": "kafka.admin.ConfigCommand", "4.4.0": "org.apache.kafka.tools.ConfigCommand"}


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_scram_cluster_from_empty_storage(version: str, dist: Callable[[str], Dist], report: Report) -> None:
    """SCRAM-SHA-512 + TLS from empty storage: quorum and brokers up, SCRAM client writes and reads,
    wrong password and PLAIN refused, a user added later is logged with the command that adds it."""
    installation = dist(version)
    lab = SecureLab(installation.home, installation.probe_dir, pods=3, sasl_mechanism=MECHANISM)
    try:
        lab.open()
        start = time.monotonic()
        for i in sorted(VOTERS):
            lab.start(i)
        status = lab.wait_ready(VOTERS, VOTERS, timeout=300)
        elapsed = time.monotonic() - start
        report.time(f"{version}: SCRAM cold start, 3 pods (start to quorum + 3 brokers)", elapsed)
        assert status.voters == status.brokers == VOTERS

        for i in sorted(VOTERS):
            log = lab.current(i).stderr_text()
            masked = r"format: running .*--add-scram SCRAM-SHA-512=\[name=alice,password=\"\*{6}\"\]"
            assert re.search(masked, log), log
            config = read_properties(lab.pod_dir(i) / "server.properties")
            assert config["sasl.mechanism.inter.broker.protocol"] == MECHANISM
            assert "CONTROLLER:SSL" in config["listener.security.protocol.map"].split(",")
            effective = effective_config(lab.current(i).stdout_text())
            assert effective["sasl.enabled.mechanisms"] == f"[{MECHANISM}]"
            recorded = (lab.data_dir(i) / SCRAM_RECORD).read_text()
            assert f"{MECHANISM} {CLIENT}\n" in recorded
            assert f"{MECHANISM} {INTER_BROKER_USER}\n" in recorded

        # The probe authenticates with SCRAM as the inter-broker user.
        assert run_probe(lab, 0, "ready", timeout=10).code == 0

        lab.create_topic(TOPIC, 3, 3, min_insync_replicas="2")
        lab.wait_isr(TOPIC, VOTERS)
        grant(lab, CLIENT, TOPIC)
        with lab.acting_as(CLIENT):
            produced = lab.produce(TOPIC, version, 50)
            assert produced.failed == []
            assert len(produced.acked) == 50
            assert sorted(lab.consume(TOPIC)) == sorted(produced.acked)

        wrong = lab.probe_as("wrong-password", "brokers", lab.bootstrap())
        assert wrong.returncode != 0
        assert any("SaslAuthenticationException" in line for line in failed_lines(wrong.stderr)), wrong.stderr
        plain = lab.probe_as("plain-attempt", "brokers", lab.bootstrap())
        assert plain.returncode != 0
        assert any(
            "UnsupportedSaslMechanismException" in line or "SaslAuthenticationException" in line
            for line in failed_lines(plain.stderr)
        ), plain.stderr

        # A user added to the Secret after the format: logged at the next start, with the command.
        lab.add_user(LATE)
        lab.stop(1)
        lab.start(1)
        lab.wait_ready(VOTERS, VOTERS, timeout=240)
        log = lab.current(1).stderr_text()
        hints = [line for line in log.splitlines() if "was not written into the cluster's metadata" in line]
        assert len(hints) == 1, log
        assert f"user {LATE} " in hints[0]
        assert f"'{MECHANISM}=[password=******]' --entity-type users --entity-name {LATE}" in hints[0]
        refused = lab.probe_as(LATE, "brokers", lab.bootstrap())
        assert refused.returncode != 0, refused.stdout

        # The logged command, as an admin runs it with the password filled in, lets the user in.
        added = subprocess.run(
            lab.net.exec_argv(
                lab.net.client_ns,
                [
                    # kafka-configs.sh's class (the lab's trimmed dists ship no kafka-configs.sh)
                    str(installation.home / "bin" / "kafka-run-class.sh"),
                    CONFIG_COMMAND[version],
                    "--bootstrap-server", lab.bootstrap(),
                    "--command-config", str(lab.configs[ADMIN]),
                    "--alter", "--add-config", f"{MECHANISM}=[password={lab.passwords[LATE]}]",
                    "--entity-type", "users", "--entity-name", LATE,
                ],
            ),
            env={**lab.base_env(), "KAFKA_HEAP_OPTS": "-Xmx128m"},
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert added.returncode == 0, added.stdout + added.stderr

        def admitted() -> bool:
            return lab.probe_as(LATE, "brokers", lab.bootstrap()).returncode == 0

        kraftlab.wait_until(f"{LATE} authenticates once added with kafka-configs.sh", admitted, timeout=60)
        assert lab.dry_run(0).returncode == 0
        assert_no_secret_outside_secret_files(lab)
    finally:
        close_labs([lab])
