"""kraftlab/pki.py makes what it says: real certificates (checked with openssl and real TLS
handshakes), PKCS#8 and PKCS#1 keys, Secret volumes laid out as the kubelet mounts them, and
client properties a Java client reads back unchanged."""

from __future__ import annotations

import io
import os
import socket
import ssl
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from jproperties import Properties

from kraftlab import pki

POD = "kafka-2.kafka-svc.kafka-kraft.svc.cluster.local"


@dataclass(frozen=True)
class World:
    ca: pki.CertificateAuthority
    node: pki.Issued
    alice: pki.Issued
    rogue_ca: pki.CertificateAuthority
    mallory: pki.Issued  # a client certificate from the CA the cluster does not trust


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("pki")
    ca = pki.new_ca(base / "ca")
    node = pki.node_certificate(ca, extra_dns=["kafka-0.kafka.example.com"], extra_ips=["192.0.2.10"])
    rogue = pki.new_ca(base / "rogue", "rogue-ca")
    return World(ca, node, ca.client_certificate("alice"), rogue, rogue.client_certificate("mallory"))


def verify(ca: pki.CertificateAuthority, cert: Path, purpose: str = "sslserver") -> bool:
    try:
        pki.openssl("verify", "-purpose", purpose, "-CAfile", str(ca.cert), str(cert))
    except pki.OpensslError:
        return False
    return True


def handshake(
    server_cert: pki.Issued,
    trusted: pki.CertificateAuthority,
    server_name: str,
    *,
    client_cert: Optional[pki.Issued] = None,
    require_client_cert: bool = False,
) -> tuple[Optional[str], Optional[dict[str, object]]]:
    """A real TLS handshake over a socket pair: (the client's error or None, the client
    certificate the server saw)."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(server_cert.chain), str(server_cert.key))
    if require_client_cert:
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(str(server_cert.ca.cert))
    client_ctx = ssl.create_default_context(cafile=str(trusted.cert))
    if client_cert is not None:
        client_ctx.load_cert_chain(str(client_cert.chain), str(client_cert.key))
    left, right = socket.socketpair()
    left.settimeout(10)
    right.settimeout(10)
    seen: dict[str, object] = {}

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(right, server_side=True) as tls:
                seen["peer"] = tls.getpeercert()
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            seen["error"] = exc
            right.close()

    thread = threading.Thread(target=serve)
    thread.start()
    error: Optional[str] = None
    try:
        with client_ctx.wrap_socket(left, server_hostname=server_name) as tls:
            if tls.recv(2) != b"ok":  # TLS 1.3: a refused client certificate shows up here
                error = f"server closed: {seen.get('error')}"
    except (ssl.SSLError, OSError) as exc:
        error = str(exc)
    finally:
        left.close()
        thread.join(10)
    peer = seen.get("peer")
    return error, peer if isinstance(peer, dict) else None


# --- certificates --------------------------------------------------------------------------


def test_node_certificate_is_signed_by_the_ca_for_server_and_client_use(world: World) -> None:
    """The node certificate verifies against ca.crt as a TLS server and a TLS client (brokers
    are clients of the controllers), and not against another CA."""
    assert verify(world.ca, world.node.cert, "sslserver")
    assert verify(world.ca, world.node.cert, "sslclient")
    assert not verify(world.rogue_ca, world.node.cert)


def test_node_certificate_names_every_pod_the_client_service_and_the_extras(world: World) -> None:
    """SANs: the pod wildcard, the client Service's names, and the extra host and IP."""
    text = pki.openssl("x509", "-in", str(world.node.cert), "-noout", "-ext", "subjectAltName").decode()
    for name in (
        "DNS:*.kafka-svc.kafka-kraft.svc.cluster.local",
        "DNS:kafka-client.kafka-kraft.svc.cluster.local",
        "DNS:kafka-client.kafka-kraft.svc",
        "DNS:kafka-0.kafka.example.com",
        "IP Address:192.0.2.10",
    ):
        assert name in text
    assert world.node.dns_names[0] == pki.pod_wildcard()


def test_client_certificate_is_client_only_with_its_own_principal(world: World) -> None:
    """A client certificate: same CA, client use only, principal CN=<user>,O=kafka-clients."""
    assert world.alice.principal == "CN=alice,O=kafka-clients"
    assert world.node.principal == "CN=kafka-svc.kafka-kraft.svc.cluster.local,O=kafka-kraft"
    assert verify(world.ca, world.alice.cert, "sslclient")
    assert not verify(world.ca, world.alice.cert, "sslserver")
    assert not verify(world.ca, world.mallory.cert, "sslclient")


def test_chain_is_leaf_then_ca(world: World) -> None:
    """tls.crt is the chain: the leaf first, then the CA (what cert-manager's CA issuer writes)."""
    chain = world.node.chain.read_bytes()
    assert chain == world.node.cert.read_bytes() + world.ca.cert.read_bytes()
    assert chain.count(b"BEGIN CERTIFICATE") == 2


@pytest.mark.parametrize(
    ("server_name", "ok"),
    [
        (POD, True),
        ("kafka-0.kafka.example.com", True),
        ("kafka-client.kafka-kraft.svc.cluster.local", True),
        ("192.0.2.10", True),
        ("kafka-2.other-svc.kafka-kraft.svc.cluster.local", False),
        ("a.kafka-2.kafka-svc.kafka-kraft.svc.cluster.local", False),  # a wildcard is one label
    ],
)
def test_tls_handshake_checks_the_host_name(world: World, server_name: str, ok: bool) -> None:
    """A client trusting ca.crt accepts the node certificate for exactly the names it covers."""
    error, _ = handshake(world.node, world.ca, server_name)
    assert (error is None) is ok, error


def test_tls_handshake_fails_with_an_untrusted_ca(world: World) -> None:
    """A client trusting only the other CA refuses the node certificate."""
    error, _ = handshake(world.node, world.rogue_ca, POD)
    assert error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in error


def test_mutual_tls_takes_clients_of_the_ca_only(world: World) -> None:
    """With client certificates required, alice (same CA) gets in and is seen by her subject;
    mallory (other CA) and a client without a certificate do not."""
    error, peer = handshake(world.node, world.ca, POD, client_cert=world.alice, require_client_cert=True)
    assert error is None
    assert peer is not None
    assert (("commonName", "alice"),) in peer["subject"]  # type: ignore[operator]
    error, _ = handshake(world.node, world.ca, POD, client_cert=world.mallory, require_client_cert=True)
    assert error is not None
    error, _ = handshake(world.node, world.ca, POD, require_client_cert=True)
    assert error is not None


# --- keys ----------------------------------------------------------------------------------


def _public_key(key: Path) -> bytes:
    return pki.openssl("pkey", "-in", str(key), "-pubout")


def test_keys_are_unencrypted_pkcs8_and_private(world: World) -> None:
    """tls.key is PKCS#8 ('BEGIN PRIVATE KEY'), not encrypted, mode 0600."""
    text = world.node.key.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert "ENCRYPTED" not in text
    assert stat.S_IMODE(world.node.key.stat().st_mode) == 0o600


def test_pkcs1_variant_is_the_same_key(world: World, tmp_path: Path) -> None:
    """write_pkcs1_key gives 'BEGIN RSA PRIVATE KEY' for the same public key."""
    pkcs1 = world.node.write_pkcs1_key(tmp_path / "tls.key")
    assert pkcs1.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert _public_key(pkcs1) == _public_key(world.node.key)


def test_ec_keys_are_pkcs8_too(world: World) -> None:
    """An EC node certificate is also PKCS#8 and verifies; it has no PKCS#1 form."""
    node = pki.node_certificate(world.ca, "ec-node", algorithm="ec")
    assert node.key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert verify(world.ca, node.cert)
    with pytest.raises(pki.OpensslError):
        node.write_pkcs1_key()


def test_issuing_the_same_name_twice_refuses(world: World) -> None:
    """Issued files are never overwritten silently."""
    with pytest.raises(FileExistsError):
        world.ca.issue("alice")


# --- Secret volumes ------------------------------------------------------------------------


def visible(directory: Path) -> dict[str, str]:
    """What a program listing the mount sees: the non-hidden entries and their link targets."""
    return {p.name: os.readlink(p) for p in directory.iterdir() if not p.name.startswith(".")}


def test_secret_volume_has_the_kubelet_layout(tmp_path: Path) -> None:
    """..data -> ..<timestamp> directory holding the files; each key -> ..data/<key>."""
    volume = pki.write_secret_volume(tmp_path / "tls", {"tls.crt": b"C", "ca.crt": "A"}, mode=0o440)
    data = volume / "..data"
    assert data.is_symlink()
    target = os.readlink(data)
    assert target.startswith("..")
    assert "/" not in target
    assert target != "..data"
    assert (volume / target).is_dir()
    assert visible(volume) == {"tls.crt": "..data/tls.crt", "ca.crt": "..data/ca.crt"}
    assert (volume / "tls.crt").read_bytes() == b"C"
    assert stat.S_IMODE((volume / target / "ca.crt").stat().st_mode) == 0o440
    hidden = sorted(p.name for p in volume.iterdir() if p.name.startswith(".."))
    assert hidden == sorted(["..data", target])


def test_secret_volume_update_swaps_data_and_drops_removed_keys(tmp_path: Path) -> None:
    """A second write is a Secret update: new content through the same paths, a removed key's
    link gone, the old timestamp directory deleted, a file opened before still readable."""
    volume = pki.write_secret_volume(tmp_path / "users", {"kafka": "one", "bob": "two"})
    first = os.readlink(volume / "..data")
    with (volume / "kafka").open("rb") as held:
        pki.write_secret_volume(volume, {"kafka": "three", "admin": "four"})
        assert held.read() == b"one"
    second = os.readlink(volume / "..data")
    assert second != first
    assert not (volume / first).exists()
    assert visible(volume) == {"kafka": "..data/kafka", "admin": "..data/admin"}
    assert (volume / "kafka").read_text() == "three"
    assert not (volume / "..data_tmp").exists()


@pytest.mark.parametrize("key", ["..data", "a/b", "", ".."])
def test_secret_volume_refuses_keys_a_volume_cannot_hold(tmp_path: Path, key: str) -> None:
    """Keys that would collide with the layout or leave the directory are refused."""
    with pytest.raises(ValueError, match="valid Secret key"):
        pki.write_secret_volume(tmp_path / "v", {key: "x"})


def test_tls_secret_directory_holds_the_three_keys(world: World, tmp_path: Path) -> None:
    """write_tls_secret: tls.crt (chain), tls.key (PKCS#8, or PKCS#1 on request), ca.crt."""
    good = pki.write_tls_secret(tmp_path / "good", world.node)
    assert set(visible(good)) == {"tls.crt", "tls.key", "ca.crt"}
    assert (good / "tls.crt").read_bytes() == world.node.chain.read_bytes()
    assert (good / "ca.crt").read_bytes() == world.ca.cert.read_bytes()
    assert (good / "tls.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    bad = pki.write_tls_secret(tmp_path / "bad", world.node, pkcs1=True)
    assert (bad / "tls.key").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")


def test_users_secret_is_one_file_per_user_without_newline(tmp_path: Path) -> None:
    """SASL users: file name = user, content = password exactly; empty passwords refused."""
    password = pki.new_password()
    users = pki.write_users_secret(tmp_path / "users", {"kafka": password, "admin": "s3cret"})
    assert set(visible(users)) == {"kafka", "admin"}
    assert (users / "kafka").read_bytes() == password.encode()
    with pytest.raises(ValueError, match="empty password"):
        pki.write_users_secret(tmp_path / "empty", {"kafka": ""})


# --- client properties ---------------------------------------------------------------------


def read_properties(path: Path) -> dict[str, str]:
    """Read as java.util.Properties does (jproperties follows its format)."""
    props = Properties()
    props.load(io.BytesIO(path.read_bytes()), "utf-8")
    return {key: props[key].data for key in props}


@pytest.mark.parametrize(
    ("tls", "sasl", "protocol"),
    [
        (False, False, "PLAINTEXT"),
        (True, False, "SSL"),
        (False, True, "SASL_PLAINTEXT"),
        (True, True, "SASL_SSL"),
    ],
)
def test_client_properties_protocol_follows_tls_and_sasl(
    world: World, tmp_path: Path, tls: bool, sasl: bool, protocol: str
) -> None:
    """security.protocol, the PEM trust store and SASL PLAIN appear exactly when asked for."""
    path = pki.client_properties(
        tmp_path / "client.properties",
        truststore=world.ca.cert if tls else None,
        sasl_user="admin" if sasl else None,
        sasl_password="pw" if sasl else None,
    )
    props = read_properties(path)
    assert props["security.protocol"] == protocol
    assert ("ssl.truststore.location" in props) is tls
    assert ("sasl.jaas.config" in props) is sasl
    if tls:
        assert props["ssl.truststore.type"] == "PEM"
        assert props["ssl.truststore.location"] == str(world.ca.cert)
    if sasl:
        assert props["sasl.mechanism"] == "PLAIN"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_client_properties_jaas_survives_awkward_passwords(tmp_path: Path) -> None:
    """A password with quotes, backslashes, '=' and ':' reaches the JAAS line intact."""
    password = 'a"b\\c=d:e f'  # noqa: S105 - a test value
    props = read_properties(
        pki.client_properties(tmp_path / "c.properties", sasl_user="admin", sasl_password=password)
    )
    assert props["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="admin" password="a\\"b\\\\c=d:e f";'
    )


def test_client_properties_with_a_client_certificate(world: World, tmp_path: Path) -> None:
    """mTLS: a PEM key store file with the key then the chain, mode 0600."""
    props = read_properties(
        pki.client_properties(tmp_path / "m.properties", truststore=world.ca.cert, client_cert=world.alice)
    )
    assert props["ssl.keystore.type"] == "PEM"
    keystore = Path(props["ssl.keystore.location"])
    assert keystore.read_bytes() == world.alice.key.read_bytes() + world.alice.chain.read_bytes()
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="needs TLS"):
        pki.client_properties(tmp_path / "x.properties", client_cert=world.alice)
