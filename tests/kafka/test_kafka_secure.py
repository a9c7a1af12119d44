"""The secure cluster on real Kafka: three pods started through the entrypoint with TLS, SASL/PLAIN
and ACLs (SPEC.md, "Listeners, security and external access"), the Secrets made by kraftlab/pki.py
as cert-manager and the kubelet would (``..data`` volumes, a wildcard node certificate), and
every pod reachable from an outside network at its node address (EXTERNAL_HOST per pod,
EXTERNAL_PORT_BASE), see kraftlab/secure.py and outside.py.

One 3.3.2 cluster serves the module's tests in this order; each one leaves it healthy for the
next. What each adds: the quorum and its mutual TLS; an ACL'd client's acks=all write and read;
every refusal, each from the client's own error; what the controller listener does with other
certificates; external access; a rolling restart under an acks=all producer; and, last, no
secret in anything the run printed. The newer version (4.4.0) runs the cold start, the
authenticated write and the refusals that differ in kind (authentication, authorization) first,
on a cluster of its own, so that the two clusters never run at once."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from kafka_support import (
    DEFAULT_VERSION,
    VOTERS,
    Delivery,
    Dist,
    Report,
    assert_not_formatted,
    close_labs,
    is_kafka_jvm,
    kraftlab,
    version_id,
)

from kraftlab.secure import SecureLab

# The slow tier: tests/k8s applies the secure overlay (quorum over mutual TLS, an authorised
# write; plaintext, TLS-only and a wrong password refused).
pytestmark = [pytest.mark.kafka, pytest.mark.slow]

#: The newer versions the secure scenario also runs on (the default runs everything).
NEWER = ("4.4.0",)
TOPIC = "orders"
CLIENT = "alice"  # a user with ACLs on TOPIC
NO_ACL = "bob"  # authenticated, no ACL at all
TRICKY = "carol"  # a password with quotes, backslashes, ';', ':', '=', '#', '!' (kraftlab.secure)
CONTROLLER_PORT = 9093
#: Where a generated file may hold a secret (then it must be 0600): the entrypoint's config and
#: keystore. Everything under the lab's secrets/ is an input the test made (the Secrets, the CA,
#: the clients' configurations).
GENERATED_SECRET_FILES = ("server.properties", "tls-keystore.pem")


def failed_lines(stderr: str) -> list[str]:
    """KraftProbe's "FAILED <exception>: <message>" lines: the exception and its causes."""
    return [line[len("FAILED "):] for line in stderr.splitlines() if line.startswith("FAILED ")]


def grant(lab: SecureLab, user: str, topic: str, operations: str = "WRITE,READ,DESCRIBE") -> None:
    """As the admin (a super user): ACLs for ``user`` on ``topic``; wait until the brokers apply them."""
    lab.probe("create-acl", lab.bootstrap(), f"User:{user}", "TOPIC", topic, operations)

    def visible() -> bool:
        with lab.acting_as(user):
            return bool(lab.describe_topic(topic))

    kraftlab.wait_until(f"{user}'s ACLs on {topic} applied by every broker", visible, timeout=60)


def effective_config(stdout: str) -> dict[str, str]:
    """The "KafkaConfig values:" block Kafka logs when it starts: the values it runs with."""
    block = stdout.split("KafkaConfig values:", 1)[1]
    values = {}
    for line in block.splitlines()[1:]:
        if not line.startswith("\t"):
            break
        key, _, value = line.strip().partition(" = ")
        values[key] = value
    return values


def read_properties(path: Path) -> dict[str, str]:
    return {
        k: v.replace("\\:", ":").replace("\\=", "=")
        for k, _, v in (line.partition("=") for line in path.read_text().splitlines())
        if v and not k.startswith("#")
    }


def handshake_failures(lab: SecureLab, listener: str) -> int:
    """Kafka's own count of failed TLS handshakes from the client namespace on ``listener``."""
    pattern = re.compile(
        rf"listenerType={listener}, .*Failed authentication with /{re.escape(lab.net.client_address)} "
        r".*\(SSL handshake failed\)"
    )
    return sum(len(pattern.findall(lab.current(i).stdout_text())) for i in VOTERS)


def assert_no_secret_outside_secret_files(lab: SecureLab) -> list[Path]:
    """Every file of the run (pods' logs and Kafka's, stdout/stderr, client transcript, producer
    errors, --dry-run output, data): no password and no private key body, except the Secrets the
    test made and the files the entrypoint generates to hold them, which are 0600. Returns the
    generated files that hold secrets (so a caller can see the scan found what it must)."""
    generated: list[Path] = []
    leaks: list[str] = []
    for path, secret in lab.secret_hits():
        if lab.secrets_dir in path.parents:
            continue
        if path.name in GENERATED_SECRET_FILES and path.parent.parent == lab.workdir / "pods":
            generated.append(path)
            continue
        leaks.append(f"{secret} in {path}")
    assert not leaks, leaks
    for path in set(generated):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path} holds a secret with mode {mode:o}"
    return sorted(set(generated))


def start_secure_cluster(lab: SecureLab, report: Report, version: str) -> kraftlab.Status:
    lab.open()
    start = time.monotonic()
    for i in sorted(VOTERS):  # in parallel, as podManagementPolicy: Parallel
        lab.start(i)
    status = lab.wait_ready(VOTERS, VOTERS, timeout=240)
    report.time(f"{version}: secure cold start, 3 pods (start to quorum + 3 brokers, as admin)",
                time.monotonic() - start)
    return status


# --------------------------------------------------------------------------- newer version


@pytest.mark.parametrize("version", [pytest.param(v, marks=pytest.mark.slow) for v in NEWER], ids=version_id)
def test_secure_cluster_on_newer_version(version: str, dist: Callable[[str], Dist], report: Report) -> None:
    """Cold start with TLS+SASL+ACLs on a newer Kafka, an ACL'd client's acks=all write read back,
    a wrong password and a user without ACL refused, no secret in any output."""
    installation = dist(version)
    lab = SecureLab(installation.home, installation.probe_dir, pods=3)
    try:
        status = start_secure_cluster(lab, report, version)
        assert status.voters == status.brokers == VOTERS
        assert status.leader in VOTERS
        config = read_properties(lab.pod_dir(0) / "server.properties")
        assert "CONTROLLER:SSL" in config["listener.security.protocol.map"].split(",")
        lab.create_topic(TOPIC, 3, 3, min_insync_replicas="2")
        lab.wait_isr(TOPIC, VOTERS)
        grant(lab, CLIENT, TOPIC)
        with lab.acting_as(CLIENT):
            produced = lab.produce(TOPIC, version, 100)
            assert produced.failed == []
            assert len(produced.acked) == 100
            assert sorted(lab.consume(TOPIC)) == sorted(produced.acked)

        wrong = lab.probe_as("wrong-password", "brokers", lab.bootstrap())
        assert wrong.returncode != 0
        assert any("SaslAuthenticationException" in line for line in failed_lines(wrong.stderr)), wrong.stderr
        denied = lab.probe_as(NO_ACL, "produce", lab.bootstrap(), TOPIC, "denied", "1", "0")
        assert "ACK " not in denied.stdout
        assert re.search(r"^ERR denied-0 .*AuthorizationException", denied.stdout, re.M), denied.stdout
        assert lab.dry_run(0).returncode == 0
        assert_no_secret_outside_secret_files(lab)
    finally:
        close_labs([lab])


# --------------------------------------------------------------------------- the default version


@dataclass
class Secured:
    lab: SecureLab
    status: kraftlab.Status


@pytest.fixture(scope="module")
def secured(dist: Callable[[str], Dist], report: Report) -> Iterator[Secured]:
    installation = dist(DEFAULT_VERSION)
    lab = SecureLab(installation.home, installation.probe_dir, pods=3, external=True, tricky_users=(TRICKY,))
    try:
        yield Secured(lab, start_secure_cluster(lab, report, DEFAULT_VERSION))
    finally:
        close_labs([lab])


@pytest.fixture(scope="module")
def orders(secured: Secured) -> str:
    """Topic ``orders`` (3 partitions, RF 3, min.insync.replicas 2), made by the admin, with
    WRITE, READ and DESCRIBE for alice and nothing for bob."""
    lab = secured.lab
    lab.create_topic(TOPIC, 3, 3, min_insync_replicas="2")
    lab.wait_isr(TOPIC, VOTERS)
    grant(lab, CLIENT, TOPIC)
    return TOPIC


def test_quorum_forms_over_mutual_tls(secured: Secured) -> None:
    """The controller listener is SSL with client certificates required (in Kafka's own effective
    configuration) and enforced; over it the three voters elected a leader and registered."""
    lab, status = secured.lab, secured.status
    assert status.voters == VOTERS
    assert status.leader in VOTERS
    assert status.brokers == VOTERS
    for i in sorted(VOTERS):
        config = read_properties(lab.pod_dir(i) / "server.properties")
        assert config["listeners"] == "SASL_SSL://:9092,CONTROLLER://:9093,EXTERNAL://:9094"
        assert config["listener.name.controller.ssl.client.auth"] == "required"
        effective = effective_config(lab.current(i).stdout_text())
        protocols = dict(item.split(":") for item in effective["listener.security.protocol.map"].split(","))
        assert protocols["CONTROLLER"] == "SSL"
        assert protocols["EXTERNAL"] == "SASL_SSL"
        assert effective["inter.broker.listener.name"] == "SASL_SSL"
        assert effective["authorizer.class.name"].endswith("StandardAuthorizer")
        assert effective["ssl.keystore.type"] == "PEM"
        assert is_kafka_jvm(lab.current(i).process.pid)
    # Enforced: a TLS client that trusts the CA but has no certificate is refused by the
    # controller during the handshake, before it can send anything.
    refused = lab.wire("describe-quorum", "no-certificate", lab.topology.fqdn(0), CONTROLLER_PORT)
    assert refused["stage"] == "request", refused
    assert refused["error_code"] is None, refused
    alert = r"ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE)"
    assert re.search(alert, str(refused["failure"])), refused


def test_authenticated_client_with_acl_writes_acks_all_and_reads(secured: Secured, orders: str) -> None:
    """alice (SASL_SSL, ACLs WRITE/READ/DESCRIBE on the topic) writes 200 messages with acks=all,
    every one acknowledged, and reads them all back."""
    lab = secured.lab
    with lab.acting_as(CLIENT):
        produced = lab.produce(orders, "alice", 200)
        assert produced.failed == []
        assert len(produced.acked) == 200
        assert sorted(lab.consume(orders)) == sorted(produced.acked)


def test_plaintext_client_is_refused(secured: Secured) -> None:
    """A PLAINTEXT client gets no answer from the SASL_SSL listener: the broker fails the TLS
    handshake (its log says so) and the client's own error is a timeout. The same request by
    hand shows what the client received: a TLS alert record, not a Kafka response."""
    lab = secured.lab
    before = handshake_failures(lab, "BROKER")
    result = lab.probe_as("plaintext", "brokers", lab.bootstrap())
    assert result.returncode != 0
    assert "broker=" not in result.stdout
    # The 3.3 client reads the TLS alert as a 352 MB response size; with the probe's heap that is
    # an OutOfMemoryError in its network thread, otherwise a wait until the API timeout: either
    # way the call ends in a TimeoutException.
    assert any("TimeoutException" in line for line in failed_lines(result.stderr)), result.stderr
    kraftlab.wait_until(
        "the broker's log of the failed handshake",
        lambda: handshake_failures(lab, "BROKER") > before,
        timeout=30,
    )
    raw = lab.wire("describe-quorum", "plaintext", lab.topology.fqdn(0), lab.topology.broker_port)
    assert raw["stage"] == "request", raw
    assert "a TLS record" in str(raw["failure"]), raw


@pytest.mark.parametrize(
    ("identity", "exception", "message"),
    [
        ("untrusting", "SslAuthenticationException", "PKIX path building failed"),
        ("wrong-password", "SaslAuthenticationException", "Invalid username or password"),
        ("unknown-user", "SaslAuthenticationException", "Invalid username or password"),
    ],
)
def test_client_that_cannot_authenticate_is_refused(
    secured: Secured, identity: str, exception: str, message: str
) -> None:
    """A client that does not trust the cluster's CA (with the admin's valid password), alice
    with a wrong password, and a user the Secret does not hold: each fails with the
    authentication error Kafka names, before any request is served."""
    result = secured.lab.probe_as(identity, "brokers", secured.lab.bootstrap())
    lines = failed_lines(result.stderr)
    assert result.returncode != 0
    assert "broker=" not in result.stdout
    assert any(exception in line for line in lines), result.stderr
    assert any(message in line for line in lines), result.stderr


def test_password_with_jaas_and_properties_special_characters_authenticates(secured: Secured) -> None:
    """carol's password holds what the JAAS string and the properties file treat specially; the
    entrypoint escapes it so that Kafka's PLAIN server checks exactly that password."""
    lab = secured.lab
    assert '"' in lab.passwords[TRICKY]
    assert "\\" in lab.passwords[TRICKY]
    result = lab.probe_as(TRICKY, "brokers", lab.bootstrap())
    assert result.returncode == 0, result.stderr
    assert len([line for line in result.stdout.splitlines() if line.startswith("broker=")]) == 3


def test_authenticated_user_without_acl_is_not_authorized(secured: Secured, orders: str) -> None:
    """bob authenticates (his metadata request is served) but, with no ACL, neither writes nor
    reads the topic alice uses: authorization errors, nothing acknowledged."""
    lab = secured.lab
    listed = lab.probe_as(NO_ACL, "brokers", lab.bootstrap())
    assert listed.returncode == 0, listed.stderr  # authenticated
    produced = lab.probe_as(NO_ACL, "produce", lab.bootstrap(), orders, "bob", "3", "0")
    assert "ACK " not in produced.stdout
    errors = [line for line in produced.stdout.splitlines() if line.startswith("ERR ")]
    assert len(errors) == 3, produced.stdout
    assert all("AuthorizationException" in line for line in errors), errors
    consumed = lab.probe_as(NO_ACL, "consume", lab.bootstrap(), orders, "15000")
    assert consumed.returncode != 0
    assert "MSG " not in consumed.stdout
    lines = failed_lines(consumed.stderr)
    assert any("TopicAuthorizationException" in line for line in lines), consumed.stderr


def test_controller_listener_serves_only_the_nodes_identity(secured: Secured) -> None:
    """On the controller port, a client certificate from the same CA completes mutual TLS but is
    an ordinary user: DescribeQuorum (DESCRIBE on the cluster) and a Vote (CLUSTER_ACTION) are
    answered CLUSTER_AUTHORIZATION_FAILED, and Kafka's authorizer logs the denial for that
    subject. The node certificate gets the same DescribeQuorum answered. A certificate from
    another CA is refused in the handshake."""
    lab = secured.lab
    leader_host = lab.topology.fqdn(secured.status.leader)
    cluster_id = secured.status.cluster_id
    intruder = lab.certificates["intruder"].principal
    assert intruder == "CN=intruder,O=kafka-clients"

    for request in ("describe-quorum", "vote"):
        outcome = lab.wire(request, "intruder", leader_host, CONTROLLER_PORT, "--cluster-id", cluster_id)
        assert outcome["stage"] == "response", outcome  # the mutual TLS handshake succeeded
        assert outcome["error_name"] == "CLUSTER_AUTHORIZATION_FAILED", outcome
    denials = (lab.pod_dir(secured.status.leader) / "logs" / "kafka-authorizer.log").read_text()
    for operation, api in (("DESCRIBE", "DescribeQuorum"), ("CLUSTER_ACTION", "Vote")):
        line = f"Principal = User:{intruder} is Denied operation = {operation}"
        logged = [entry for entry in denials.splitlines() if line in entry and f"request = {api}" in entry]
        assert logged, denials[-2000:]

    control = lab.wire("describe-quorum", "node", leader_host, CONTROLLER_PORT)
    assert control["stage"] == "response", control
    assert control["error_name"] == "NONE", control

    before = handshake_failures(lab, "CONTROLLER")
    stranger = lab.wire("describe-quorum", "stranger", leader_host, CONTROLLER_PORT)
    assert stranger["error_code"] is None, stranger
    unknown = r"ALERT_(CERTIFICATE_UNKNOWN|UNKNOWN_CA|BAD_CERTIFICATE)"
    assert re.search(unknown, str(stranger["failure"])), stranger
    kraftlab.wait_until(
        "the controller's log of the failed handshake",
        lambda: handshake_failures(lab, "CONTROLLER") > before,
        timeout=30,
    )
    assert lab.status().voters == VOTERS  # the quorum went on unchanged


def test_external_client_reaches_every_broker_at_its_node_address(secured: Secured, orders: str) -> None:
    """A client that reaches only the node addresses (no route to the pods, no cluster DNS)
    bootstraps from one NodePort; the metadata lists every broker at <node address>:<30092+N>
    (TLS verified against the certificate's IP SANs); it writes with acks=all and reads back.
    Inside the cluster, the same brokers are still advertised by their pod FQDNs."""
    lab = secured.lab
    outside = lab.outside
    assert outside is not None
    for i in sorted(VOTERS):  # the outside reaches no pod address
        unreachable = lab.wire("describe-quorum", "plaintext", lab.net.address(i), 9092, ns=outside.ns)
        assert unreachable["stage"] == "connect", unreachable
    inside_name = lab.probe_as(CLIENT, "brokers", lab.bootstrap(), ns=outside.ns)
    assert inside_name.returncode != 0  # nor resolves their names

    bootstrap = outside.endpoint(1)  # one address is enough
    listed = lab.probe_as(CLIENT, "brokers", bootstrap, ns=outside.ns)
    assert listed.returncode == 0, listed.stderr
    advertised = {line for line in listed.stdout.splitlines() if line.startswith("broker=")}
    assert advertised == {
        f"broker={i} host={outside.node_address(i)} port={outside.node_port(i)}" for i in VOTERS
    }
    inside = set(lab.probe("brokers", lab.bootstrap()))
    assert inside == {f"broker={i} host={lab.topology.fqdn(i)} port=9092" for i in VOTERS}

    produced = lab.probe_as(CLIENT, "produce", bootstrap, orders, "outside", "100", "0", ns=outside.ns)
    acked = [line.split()[1] for line in produced.stdout.splitlines() if line.startswith("ACK ")]
    assert len(acked) == 100, produced.stdout[-2000:] + produced.stderr[-2000:]
    consumed = lab.probe_as(CLIENT, "consume", bootstrap, orders, "60000", ns=outside.ns, timeout=120)
    assert consumed.returncode == 0, consumed.stderr
    read = {line[4:] for line in consumed.stdout.splitlines() if line.startswith("MSG ")}
    assert set(acked) <= read


def test_rolling_restart_under_acks_all_producer(secured: Secured, report: Report) -> None:
    """Each pod in turn SIGTERMed and started again (same Secrets, no format) while alice writes
    with acks=all: every acknowledged message is read back, none lost."""
    lab = secured.lab
    topic = "rolling"
    lab.create_topic(topic, 3, 3, min_insync_replicas="2")
    lab.wait_isr(topic, VOTERS)
    grant(lab, CLIENT, topic)
    with lab.acting_as(CLIENT):
        producer = lab.start_producer(topic, "rolling", interval_ms=20)
    try:
        kraftlab.wait_until("first acks", lambda: producer.acked_count() >= 20, timeout=60)
        for i in (0, 1, 2):
            acked_before = producer.acked_count()
            start = time.monotonic()
            code = lab.stop(i)
            assert code in (0, 143), lab.current(i).tail()
            pod_run = lab.start(i)
            lab.wait_ready(VOTERS, VOTERS, timeout=180)
            lab.wait_isr(topic, VOTERS)
            report.time(f"{DEFAULT_VERSION}: secure restart kafka-{i}: SIGTERM to back in ISR",
                        time.monotonic() - start)
            assert_not_formatted(pod_run)

            def acks_resumed(before: int = acked_before) -> bool:
                return producer.acked_count() > before + 10

            kraftlab.wait_until("acks after the restart", acks_resumed, timeout=60)
    finally:
        result = producer.stop()
    with lab.acting_as(CLIENT):
        consumed = lab.consume(topic)
    delivery = Delivery.of(result, consumed)
    report.finding(f"{DEFAULT_VERSION} secure: rolling restart: {delivery.summary(result)}")
    assert result.failed == []
    assert len(result.acked) > 100
    assert not delivery.lost


def test_no_secret_in_any_output_and_secret_files_are_0600(secured: Secured) -> None:
    """After everything above: --dry-run of a pod masks what it would write; no password and no
    key body in any log, stderr, client output or --dry-run output of the run; the files the
    entrypoint generates with secrets are 0600, and the scan does find them there."""
    lab = secured.lab
    dry = lab.dry_run(0)
    assert dry.returncode == 0, dry.stderr
    assert "plain.sasl.jaas.config=******" in dry.stdout
    generated = assert_no_secret_outside_secret_files(lab)
    expected = {lab.pod_dir(i) / name for i in VOTERS for name in GENERATED_SECRET_FILES}
    assert set(generated) == expected
    for config in lab.configs.values():  # the test's own client configurations
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
    transcript = lab.transcript.read_text()
    assert "SaslAuthenticationException" in transcript  # the refusals' output was scanned too
