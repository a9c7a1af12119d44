"""k8s/overlays/secure (TLS + SASL/PLAIN + ACLs) on a real Kubernetes, as a user applies it.

cert-manager's controller cannot be built here (its main package is in a nested module the Go
module proxy does not serve), so the test installs cert-manager's real CRDs (from its root module,
deploy/crds) so that the overlay's Issuers and Certificates apply as written, and creates the one
Secret cert-manager would make from them: ``kafka-tls`` (the chain, a PKCS#8 key, ca.crt) for the
names the rendered Certificate asks for, signed by a CA made with openssl (tests/pki.py). The SASL
passwords are the files the README has the user write into components/secure/users/. Clients are
Kafka's own tools in a pod of the image."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import overlay_support as ov
import pytest

from kraftlab import k8s as kh
from kraftlab import pki

TOPIC = "secured"
CLIENT_DIR = "/tmp"  # in the client pod (its only writable place: the image's /tmp)


@pytest.fixture
def cert_manager_crds() -> Iterator[Path]:
    """cert-manager's CRDs in the cluster (removed afterwards unless they were there before)."""
    crds = ov.cert_manager_crds()
    names = [f"{kind}.cert-manager.io" for kind in ("certificates", "certificaterequests", "issuers",
                                                    "clusterissuers")]
    before = kh.kubectl("get", "crd", *names, "--ignore-not-found", "-o", "name").stdout.split()
    kh.kubectl("apply", "--server-side", "-f", str(crds))
    kh.kubectl("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names),
               timeout=90)
    try:
        yield crds
    finally:
        if not before:
            kh.kubectl("delete", "-f", str(crds), "--wait=true", timeout=180, check=False)


def client_properties(workdir: Path, name: str, **settings: object) -> str:
    """A Java client properties file (tests/pki.py) as text, the trust store at /tmp/ca.crt."""
    path = pki.client_properties(workdir / f"{name}.properties", **settings)  # type: ignore[arg-type]
    return path.read_text()


#: The overlay a user applies where cert-manager is not installed (k8s/README.md): the secure
#: overlay without its cert-manager.io objects; the Secret kafka-tls is made by the user.
WITHOUT_CERT_MANAGER = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../k8s/overlays/secure
patches:
  - target:
      group: cert-manager.io  # its Issuers and Certificates: no cert-manager in this cluster
    patch: |-
      $patch: delete
      apiVersion: cert-manager.io/v1
      kind: Certificate
      metadata:
        name: any
"""


@pytest.mark.parametrize(
    "how", ["cert-manager-crds", pytest.param("without-cert-manager", marks=pytest.mark.slow)]
)
def test_secure_overlay_as_a_user_applies_it(how: str, namespace: kh.Namespace, manifests: Path,
                                             image: str, report: kh.Report, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    """Passwords written to users/ and the Secret kafka-tls cert-manager would make, then either
    ``kubectl apply -k k8s/overlays/secure`` with cert-manager's CRDs installed (its Issuers and
    Certificates accepted as written) or, without any cert-manager, the README's overlay that
    leaves them out: 3 pods Ready with SASL_SSL / mutual-TLS listeners; the admin over SASL_SSL
    writes acks=all to an RF=3 topic and reads it back; a PLAINTEXT client, a TLS client without
    SASL and a wrong password are refused."""
    ns = namespace.name
    if how == "cert-manager-crds":
        request.getfixturevalue("cert_manager_crds")
        apply_dir = manifests / "overlays" / "secure"
    else:
        apply_dir = manifests.parent / "my-secure"
        apply_dir.mkdir()
        (apply_dir / "kustomization.yaml").write_text(WITHOUT_CERT_MANAGER)
    passwords = {"kafka": pki.new_password(), "admin": pki.new_password()}
    users = manifests / "components" / "secure" / "users"
    for user, password in passwords.items():
        (users / user).write_text(password)
    docs = ov.rendered(manifests, "secure")
    certificate = ov.find(docs, "Certificate", "kafka-tls")["spec"]
    assert isinstance(certificate, Mapping)
    assert certificate["privateKey"]["encoding"] == "PKCS8"
    assert f"*.kafka-svc.{ns}.svc.cluster.local" in certificate["dnsNames"], certificate

    ns_volumes = ov.claims("kafka", 3)
    namespace.volumes(*ns_volumes)
    started = time.monotonic()
    kh.kubectl("apply", "-k", str(apply_dir))
    for kind, name in (("issuer", "kafka-selfsigned"), ("issuer", "kafka-ca"),
                       ("certificate", "kafka-ca"), ("certificate", "kafka-tls")):
        found = kh.kubectl("-n", ns, "get", f"{kind}.cert-manager.io", name, "-o", "name", check=False)
        assert (found.returncode == 0) == (how == "cert-manager-crds"), (how, kind, name, found.stderr)

    if how == "cert-manager-crds":  # what cert-manager's CA issuer makes of Certificate kafka-tls
        ca = pki.new_ca(tmp_path / "pki", "kafka-kraft-ca")
        node = ca.issue("kafka-tls", common_name=str(certificate["commonName"]),
                        organization=str(certificate["subject"]["organizations"][0]),
                        dns_names=[str(n) for n in certificate["dnsNames"]])
        template = certificate.get("secretTemplate", {})
        kh.kubectl("apply", "-f", "-", stdin=ov.tls_secret_yaml(
            str(certificate["secretName"]), ns, node.tls_secret(), template.get("labels", {})))
        ca_cert = ca.cert
    else:  # the README's openssl commands and kubectl create secret
        made = ov.user_made_tls_files(tmp_path / "user-pki", ns)
        kh.kubectl("-n", ns, "create", "secret", "generic", "kafka-tls", "--type=kubernetes.io/tls",
                   *(f"--from-file={made / key}" for key in ("tls.crt", "tls.key", "ca.crt")))
        ca_cert = made / "ca.crt"
    kh.wait_ready(ns, "kafka", 3)
    report.time(f"secure overlay ({how}): 3 pods Ready",
                time.monotonic() - started)

    text = kh.exec_in(ns, "kafka-0", "cat", "/var/lib/kafka/config/server.properties").stdout
    config = {k: v.replace("\\:", ":").replace("\\=", "=")
              for k, _, v in (line.partition("=") for line in text.splitlines()) if not k.startswith("#")}
    assert config["listeners"] == "SASL_SSL://:9092,CONTROLLER://:9093", config
    assert config["listener.name.controller.ssl.client.auth"] == "required", config

    client = kh.Client(ns, image)
    truststore = Path(CLIENT_DIR) / "ca.crt"
    ov.put_file(ns, client.name, str(truststore), ca_cert.read_text())
    timeouts = "request.timeout.ms=5000\ndefault.api.timeout.ms=20000\n"
    configs = {
        "admin": client_properties(tmp_path, "admin", truststore=truststore, sasl_user="admin",
                                   sasl_password=passwords["admin"]),
        "wrong-password": client_properties(tmp_path, "wrong", truststore=truststore, sasl_user="admin",
                                            sasl_password=pki.new_password()) + timeouts,
        "plaintext": "security.protocol=PLAINTEXT\n" + timeouts,
        "tls-without-sasl": client_properties(tmp_path, "tls", truststore=truststore) + timeouts,
    }
    for name, text in configs.items():
        ov.put_file(ns, client.name, f"{CLIENT_DIR}/{name}.properties", text)
    # VerifiableProducer of the harness reads /tmp/producer.properties: acks=all plus the admin.
    ov.put_file(ns, client.name, f"{CLIENT_DIR}/producer.properties",
                kh.PRODUCER_PROPERTIES + configs["admin"])
    admin = f"{CLIENT_DIR}/admin.properties"

    kh.exec_in(ns, client.name, "kafka-topics.sh", "--bootstrap-server", client.bootstrap,
               "--command-config", admin, "--create", "--topic", TOPIC, "--partitions", "3",
               "--replication-factor", "3", "--config", "min.insync.replicas=2", timeout=180)
    produced = client.produce(TOPIC, 500, prefix=21)
    assert len(produced.acked) == 500, produced
    assert produced.failed == 0, produced
    out = kh.exec_in(ns, client.name, "kafka-console-consumer.sh", "--bootstrap-server", client.bootstrap,
                     "--consumer.config", admin, "--topic", TOPIC, "--from-beginning", "--max-messages",
                     "500", "--timeout-ms", "30000", timeout=240, check=False).stdout
    assert produced.acked <= set(ov.lines(out)), sorted(produced.acked - set(ov.lines(out)))[:20]

    for name in ("plaintext", "tls-without-sasl", "wrong-password"):
        refused = kh.exec_in(ns, client.name, "kafka-topics.sh", "--bootstrap-server", client.bootstrap,
                             "--command-config", f"{CLIENT_DIR}/{name}.properties", "--list",
                             timeout=120, check=False)
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0, f"{name}: {output[-2000:]}"
        assert TOPIC not in refused.stdout, f"{name} listed the topics: {refused.stdout}"
        if name == "wrong-password":
            assert "Authentication failed" in output, output[-2000:]
        for password in passwords.values():
            assert password not in output
    logs = "".join(kh.kubectl("-n", ns, "logs", f"kafka-{n}").stdout for n in range(3))
    for password in passwords.values():
        assert password not in logs, "a SASL password reached a pod's log"
    report.figure(f"secure overlay ({how}): admin over SASL_SSL wrote 500 acks=all and read them back; "
                  "PLAINTEXT, TLS without SASL and a wrong password refused")
