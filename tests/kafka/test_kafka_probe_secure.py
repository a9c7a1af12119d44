"""The probes on secure listeners and on controller-only pods, against real Kafka (SPEC: Probes).

Secure (per version): the TLS + SASL/PLAIN + ACL cluster of tests/kafka/test_kafka_secure.py;
the probe authenticates as SASL_INTER_BROKER_USER over TLS, and fails, in one line with no
secret in it, with a wrong password or a CA that does not sign the brokers' certificates. The
same cluster started again with TLS alone (client certificates required on every listener): the
probe presents the node's certificate; a stranger's certificate is refused.

Controller-only (dedicated controllers, tests/kafka/test_kafka_dedicated.py's layout): each
controller is judged by the quorum's leader (voter, caught up), a non-leader asking the others;
a stopped controller fails live within the timeout and is ready again once caught up."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

import pytest
from kafka_support import VOTERS, Dist, Report, close_labs, is_kafka_jvm, kraftlab, version_id
from probe_support import poll_probe, run_probe

from kraft_entrypoint import properties
from kraft_entrypoint.probe_verdict import target_of
from kraftlab import pki
from kraftlab.quorum import QuorumLab
from kraftlab.secure import INTER_BROKER_USER, SecureLab

# The slow tier: tests/k8s's secure and dedicated overlays only get Ready through these probes
# (over SASL_SSL, and the controller quorum).
pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# 4.4.0 in the slow tier (scripts/test --full): CI runs the broker outcomes on 4.4.0 in
# test_kafka_probe.py; these two clusters per version cost about three minutes more.
VERSIONS = ["3.3.2", pytest.param("4.4.0", marks=pytest.mark.slow)]
TOPIC = "guarded"
CONTROLLERS = {0, 1, 2}
BROKERS = {100, 101, 102}
#: What turns the secure lab's pods into TLS-only pods (client certificates required).
TLS_ONLY = {
    "SASL_USERS_DIR": None,
    "SASL_INTER_BROKER_USER": None,
    "AUTHORIZATION": None,
    "SUPER_USERS": None,
}


def _all_pass(lab: kraftlab.Lab, slots: set[int], **env: str) -> None:
    for slot in sorted(slots):
        for kind in ("startup", "ready", "live"):
            result = run_probe(lab, slot, kind, **env)
            assert result.code == 0, result


class TlsOnlyLab(SecureLab):
    """The secure lab's Secrets and pods, with SASL and ACLs off: TLS alone, mutual on every listener."""

    def pod_env(self, ordinal: int, replicas: int = 3, **overrides: Optional[str]) -> dict[str, str]:
        return super().pod_env(ordinal, replicas, **{**TLS_ONLY, **overrides})


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_probes_on_tls_and_sasl_listeners(
    version: str, dist: Callable[[str], Dist], report: Report, tmp_path: Path
) -> None:
    """SASL_SSL: the probes pass as the inter-broker user; a wrong password or an untrusted CA fail
    in one line without the password; TLS alone (mutual): passes with the node's certificate, a
    stranger's is refused."""
    installation = dist(version)
    lab = SecureLab(installation.home, installation.probe_dir, pods=3)
    try:
        lab.open()
        start = time.monotonic()
        for i in sorted(VOTERS):
            lab.start(i)
        lab.wait_ready(VOTERS, VOTERS, timeout=240)
        report.time(
            f"{version}: secure cluster for the probes (start to 3 brokers)", time.monotonic() - start
        )
        lab.create_topic(TOPIC, 3, 3, min_insync_replicas="2")
        lab.wait_isr(TOPIC, VOTERS)
        _all_pass(lab, VOTERS)

        users = dict(lab.passwords)
        wrong = pki.new_password()
        wrong_dir = pki.write_users_secret(tmp_path / "wrong-users", {**users, INTER_BROKER_USER: wrong})
        refused = run_probe(lab, 1, "ready", SASL_USERS_DIR=str(wrong_dir))
        assert refused.code == 1, refused
        assert f"authenticating as {INTER_BROKER_USER}" in refused.line or "Authentication" in refused.line, (
            refused
        )
        assert wrong not in refused.line
        assert users[INTER_BROKER_USER] not in refused.line

        node = lab.certificates["node"]
        assert node.cert is not None
        assert node.key is not None
        stranger_ca = lab.secrets_dir / "stranger-pki" / "stranger-ca.crt"
        untrusting = pki.write_secret_volume(
            tmp_path / "untrusting-tls",
            {
                "tls.crt": node.cert.read_bytes(),
                "tls.key": node.key.read_bytes(),
                "ca.crt": stranger_ca.read_bytes(),
            },
        )
        distrust = run_probe(lab, 1, "live", TLS_DIR=str(untrusting))
        assert distrust.code == 1, distrust
        assert "CERTIFICATE_VERIFY_FAILED" in distrust.line or "certificate" in distrust.line.lower(), (
            distrust
        )
        report.finding(f"{version}: probe refusals: {refused.line} | {distrust.line}")
    finally:
        close_labs([lab])

    tls_only = TlsOnlyLab(installation.home, installation.probe_dir, pods=3)
    try:
        tls_only.open()
        for i in sorted(VOTERS):
            tls_only.start(i)
        for i in sorted(VOTERS):
            poll_probe(tls_only, i, "startup", until=0, timeout=240)
        config = (tls_only.pod_dir(0) / "server.properties").read_bytes()
        assert b"ssl.client.auth=required" in config
        assert target_of(dict(properties.parse(config))).endpoint.protocol == "SSL"
        for i in sorted(VOTERS):
            poll_probe(tls_only, i, "ready", until=0, timeout=60)
        stranger = tls_only.certificates["stranger"]
        assert stranger.cert is not None
        assert stranger.key is not None
        ca = tls_only.certificates["node"].ca
        assert ca is not None
        foreign = pki.write_secret_volume(
            tmp_path / "stranger-tls",
            {
                "tls.crt": stranger.cert.read_bytes(),
                "tls.key": stranger.key.read_bytes(),
                "ca.crt": ca.read_bytes(),
            },
        )
        rejected = run_probe(tls_only, 1, "live", TLS_DIR=str(foreign))
        assert rejected.code == 1, rejected
        report.finding(f"{version}: TLS-only, a stranger's client certificate: {rejected.line}")
    finally:
        close_labs([tls_only])


@pytest.fixture(scope="module", params=VERSIONS, ids=version_id)
def dedicated(
    request: pytest.FixtureRequest, dist: Callable[[str], Dist], report: Report
) -> Iterator[QuorumLab]:
    version: str = request.param
    installation = dist(version)
    lab = QuorumLab(installation.home, installation.probe_dir, quorum="static")
    try:
        lab.open()
        start = time.monotonic()
        lab.start_pods(sorted(CONTROLLERS | BROKERS))
        lab.wait_formed(CONTROLLERS, timeout=240)
        report.time(
            f"{version}: dedicated controllers for the probes (start to formed)", time.monotonic() - start
        )
        yield lab
    finally:
        close_labs([lab])


def test_controller_only_pods_are_judged_by_the_quorum(dedicated: QuorumLab, report: Report) -> None:
    """Every controller passes startup, ready (leader or caught-up voter) and live; brokers pass too.
    A stopped follower controller fails live within the timeout and ready; resumed, it is ready again."""
    lab = dedicated
    for slot in sorted(CONTROLLERS):
        poll_probe(lab, slot, "ready", until=0, timeout=60)
    _all_pass(lab, CONTROLLERS | BROKERS)
    version = lab.kafka_home.name.rsplit("-", 1)[-1]
    leader = lab.describe_status().leader
    lines = {slot: run_probe(lab, slot, "ready").line for slot in sorted(CONTROLLERS)}
    assert "leads the quorum" in lines[leader], lines
    assert all("caught up" in line for slot, line in lines.items() if slot != leader), lines

    follower = max(CONTROLLERS - {leader})
    pid = lab.current(follower).process.pid
    assert is_kafka_jvm(pid)
    os.kill(pid, signal.SIGSTOP)
    try:
        hung = run_probe(lab, follower, "live", timeout=2)
        assert hung.code == 1, hung
        assert hung.seconds < 2 + 2.5, hung
        assert run_probe(lab, follower, "ready", timeout=3).code == 1
        for slot in sorted(CONTROLLERS - {follower}):
            assert run_probe(lab, slot, "ready").code == 0
    finally:
        os.kill(pid, signal.SIGCONT)
    start = time.monotonic()
    poll_probe(lab, follower, "ready", until=0, timeout=120)
    report.time(f"{version}: SIGCONT controller {follower} -> probe ready passes", time.monotonic() - start)
    report.finding(f"{version}: controller probes: {lines}")
