"""k8s/overlays/secure (TLS + SASL/PLAIN + ACLs) run as three containers of the image.

The overlay is rendered with the pinned kustomize from a copy of k8s/ with passwords of its own
(as tests/manifests does), and its StatefulSet's pod template runs as three podman
containers (k8s_emulation, as test_container_cluster does for the plain manifest). The two
Secrets are files in the kubelet's layout (``..data``, mode 0440, group fsGroup), mounted
read-only: ``kafka-sasl-users-<hash>`` from the rendered manifest, ``kafka-tls`` made with openssl
for the names the overlay's Certificate asks cert-manager for (cert-manager is the emulated part).
Everything else is real: the image, the entrypoint on its Python, Kafka 3.3.2 on Java 11, and
Kafka's console tools in a client container with SASL_SSL client settings."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import k8s_emulation as k8s
import pytest
import yaml
from manifests.support import USERS_DIR, copy_k8s
from test_container_cluster import Cluster, create_claim_volume, wait_for

from kraftlab import container as h
from kraftlab import pki

pytestmark = pytest.mark.container

STS = "kafka"
TOPIC = "secured"
CLIENT_DIR = "/etc/kafka-client"  # in the client container
ENTRYPOINT = "/opt/kraft-entrypoint/bin/kraft-entrypoint"  # the image's ENTRYPOINT
IMAGE_UID = 1000  # the image's USER: the client container reads its configuration as that user


@dataclass
class Secure:
    cluster: Cluster
    passwords: dict[str, str]
    node: pki.Issued
    secrets_root: Path

    def config(self, name: str) -> str:
        return f"{CLIENT_DIR}/{name}.properties"


def render_secure_overlay(root: Path, passwords: dict[str, str]) -> list[k8s.Obj]:
    tree = copy_k8s(root / "k8s")
    for user, password in passwords.items():
        (tree / USERS_DIR / user).write_text(password)
    kustomize = h.run([str(h.REPO / "scripts" / "kustomize")], timeout=900).stdout.strip().splitlines()[-1]
    rendered = h.run([kustomize, "build", str(tree / "overlays" / "secure")], timeout=120).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def cert_manager(docs: list[k8s.Obj], ca: pki.CertificateAuthority) -> tuple[str, pki.Issued]:
    """What cert-manager's CA issuer makes of the overlay's Certificate kafka-tls: its Secret."""
    spec = k8s.find(docs, "Certificate", "kafka-tls")["spec"]
    assert spec["privateKey"]["encoding"] == "PKCS8"
    node = ca.issue(
        "kafka-tls",
        common_name=spec["commonName"],
        organization=spec["subject"]["organizations"][0],
        dns_names=spec["dnsNames"],
    )
    return spec["secretName"], node


def client_configs(directory: Path, ca: pki.CertificateAuthority, passwords: dict[str, str]) -> None:
    """The client container's settings: ca.crt, the admin's SASL_SSL properties, a wrong password."""
    directory.mkdir(parents=True)
    truststore = Path(CLIENT_DIR) / "ca.crt"
    (directory / "ca.crt").write_bytes(ca.cert.read_bytes())
    pki.client_properties(directory / "admin.properties", truststore=truststore,
                          sasl_user="admin", sasl_password=passwords["admin"])
    pki.client_properties(directory / "wrong-password.properties", truststore=truststore,
                          sasl_user="admin", sasl_password=pki.new_password())
    for path in (directory, *directory.iterdir()):
        h.run(["chown", f"{IMAGE_UID}:{IMAGE_UID}", str(path)], timeout=30)


@pytest.fixture(scope="module")
def secure(image: str, run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    work = tmp_path_factory.mktemp("secure-overlay")
    passwords = {"kafka": pki.new_password(), "admin": pki.new_password()}
    docs = render_secure_overlay(work, passwords)
    ca = pki.new_ca(work / "pki")
    secret_name, node = cert_manager(docs, ca)
    made = {secret_name: node.tls_secret()}
    prefix = f"{run_id}-sec"
    sts = k8s.find(docs, "StatefulSet", STS)
    replicas = int(sts["spec"]["replicas"])
    c = Cluster(prefix=prefix, image=image, docs=docs, network=f"{prefix}-net")
    created_network = False
    try:
        h.run(["podman", "network", "create", c.network], timeout=60)
        created_network = True
        group = k8s.fs_group(docs, STS)
        for ordinal in range(replicas):
            c.pods[ordinal] = k8s.pod(docs, STS, ordinal, volume_prefix=prefix, secrets=made,
                                      secrets_root=work / "secret-volumes")
            for volume, _ in c.pods[ordinal].volumes:
                create_claim_volume(volume, group)
                c.volumes.add(volume)
        client_configs(work / "client", ca, passwords)
        started = time.monotonic()
        for ordinal in range(replicas):  # podManagementPolicy: Parallel
            c.start(ordinal)
        c.client = f"{prefix}-client"
        h.run(["podman", "run", "--detach", *h.PODMAN_RUN_OPTS, "--name", c.client, "--network", c.network,
               "--volume", f"{work / 'client'}:{CLIENT_DIR}:ro", "--entrypoint", "sleep", image, "3600"],
              timeout=120)
        for ordinal in range(replicas):
            listening = functools.partial(c.listening, ordinal)
            wait_for(f"{c.container(ordinal)}'s broker port", listening, timeout=300)
        h.log(f"secure overlay: 3 pods listening {time.monotonic() - started:.1f}s after start")
        yield Secure(c, passwords, node, work)
    finally:
        names = [c.container(i) for i in c.pods] + ([c.client] if c.client else [])
        for container in names:
            h.run(["podman", "rm", "--force", "--time", "0", container], timeout=120, check=False)
        for volume in sorted(c.volumes):
            h.run(["podman", "volume", "rm", "--force", volume], timeout=60, check=False)
        if created_network:
            h.run(["podman", "network", "rm", "--force", c.network], timeout=60, check=False)


def quorum(s: Secure) -> dict[str, str] | None:
    c = s.cluster
    out = c.tool("kafka-metadata-quorum.sh", "--bootstrap-server", c.bootstrap, "--command-config",
                 s.config("admin"), "describe", "--status", check=False, timeout=90)
    status = {k.strip(): v.strip() for k, sep, v in (line.partition(":") for line in out.splitlines()) if sep}
    return status if status.get("LeaderId", "-1") not in ("-1", "") else None


def test_secure_pods_form_the_quorum_over_mutual_tls(secure: Secure) -> None:
    """Each pod reads both Secret volumes (..data layout, 0440, fsGroup) and runs SASL_SSL for
    clients and SSL with required client certificates for the controllers, its generated config
    and keystore 0600 in the pod, no secret in its log; the three voters elect a leader."""
    c = secure.cluster
    status = wait_for("a quorum leader seen by the admin over SASL_SSL", lambda: quorum(secure), timeout=240)
    assert json.loads(status["CurrentVoters"]) == [0, 1, 2]
    key_lines = [line for line in secure.node.key.read_text().splitlines() if not line.startswith("-----")]
    for ordinal in c.pods:
        name = c.container(ordinal)
        assert c.exec(name, "readlink", "/etc/kafka/tls/..data").strip().startswith("..")
        text = c.exec(name, "cat", "/var/lib/kafka/config/server.properties")
        config = {k: v.replace("\\:", ":").replace("\\=", "=")
                  for k, _, v in (line.partition("=") for line in text.splitlines()) if not k.startswith("#")}
        assert config["listeners"] == "SASL_SSL://:9092,CONTROLLER://:9093"
        assert "CONTROLLER:SSL" in config["listener.security.protocol.map"].split(",")
        assert config["listener.name.controller.ssl.client.auth"] == "required"
        assert config["ssl.truststore.location"] == "/etc/kafka/tls/ca.crt"
        modes = c.exec(name, "stat", "-c", "%a %u", "/var/lib/kafka/config/server.properties",
                       "/var/lib/kafka/config/tls-keystore.pem").split()
        assert modes == ["600", "1000", "600", "1000"], modes
        logs = c.logs(ordinal)
        assert "Kafka Server started" in logs
        # --dry-run in the pod (its environment, its Secrets) shows the JAAS line masked
        dry = h.run(["podman", "exec", name, ENTRYPOINT, "--dry-run"], timeout=60)
        assert "listener.name.sasl_ssl.plain.sasl.jaas.config=******" in dry.stdout.splitlines()
        for secret in [*secure.passwords.values(), "".join(key_lines), *key_lines[1:-1]]:
            assert secret not in logs, f"a secret reached kafka-{ordinal}'s log"
            assert secret not in dry.stdout + dry.stderr, f"a secret reached kafka-{ordinal}'s --dry-run"


def test_authenticated_client_writes_acks_all_and_reads(secure: Secure) -> None:
    """The admin (SASL_SSL, the CA from the Secret) creates an RF=3 topic, writes with acks=all,
    reads every message back; the same tool with a wrong password is refused."""
    c = secure.cluster
    admin = secure.config("admin")
    wait_for("a quorum leader", lambda: quorum(secure), timeout=240)
    c.tool("kafka-topics.sh", "--bootstrap-server", c.bootstrap, "--command-config", admin, "--create",
           "--if-not-exists", "--topic", TOPIC, "--partitions", "3", "--replication-factor", "3",
           "--config", "min.insync.replicas=2", timeout=120)
    messages = [f"secure-{i}" for i in range(100)]
    c.tool("kafka-console-producer.sh", "--bootstrap-server", c.bootstrap, "--topic", TOPIC,
           "--producer.config", admin, "--sync", "--producer-property", "acks=all",
           input_text="".join(m + "\n" for m in messages), timeout=180)
    out = c.tool("kafka-console-consumer.sh", "--bootstrap-server", c.bootstrap, "--topic", TOPIC,
                 "--consumer.config", admin, "--from-beginning", "--max-messages", str(len(messages)),
                 "--timeout-ms", "60000", timeout=180, check=False)
    assert sorted(line for line in out.splitlines() if line) == sorted(messages)

    refused = h.run(["podman", "exec", "--env", "KAFKA_HEAP_OPTS=-Xmx128m", c.client, "kafka-topics.sh",
                     "--bootstrap-server", c.bootstrap, "--command-config", secure.config("wrong-password"),
                     "--list"], timeout=120, check=False)
    assert refused.returncode != 0
    assert "Authentication failed" in refused.stdout + refused.stderr, refused.stderr[-2000:]
    assert TOPIC not in refused.stdout
    for password in secure.passwords.values():
        assert password not in refused.stdout + refused.stderr
