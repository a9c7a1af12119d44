"""Real certificates and Secret volumes for the security tests, made with the ``openssl`` CLI.

Everything here is what a cluster would really hold, laid out the way Kubernetes mounts it:

* :func:`new_ca` makes a certificate authority (``ca.crt``); :meth:`CertificateAuthority.issue`
  signs leaf certificates with it: the node certificate of the pods (:func:`node_certificate`,
  wildcard SANs ``*.<service>.<namespace>.svc.<domain>`` plus the client Service, and any extra
  host or IP) and client certificates with other subjects. A second :func:`new_ca` is a CA that
  the cluster does not trust.
* Keys are unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``), as cert-manager writes them with
  ``privateKey.encoding: PKCS8``; :meth:`Issued.write_pkcs1_key` gives the same key as PKCS#1
  (``BEGIN RSA PRIVATE KEY``) for the tests that must see it refused.
* :func:`write_secret_volume` lays a directory out as the kubelet mounts a Secret volume:
  ``..<timestamp>/`` holds the files, ``..data`` points at it, and every key is a symlink
  ``name -> ..data/name``; writing again swaps ``..data`` atomically, as a Secret update does.
  :func:`write_tls_secret` (a ``kubernetes.io/tls`` Secret from cert-manager: ``tls.crt`` = the
  chain, ``tls.key``, ``ca.crt``) and :func:`write_users_secret` (one file per SASL user) use it.
* :func:`client_properties` writes the Java client properties a test client needs
  (``security.protocol``, a PEM trust store, SASL PLAIN, optionally a client certificate).

The test suites, kraftlab's secure lab and the bench import it as ``from kraftlab import pki``
(the repository root is on the import path: pytest's ``pythonpath`` option, ``python -m bench``).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

#: The names the manifests use (k8s/kafka.yaml).
SERVICE = "kafka-svc"
CLIENT_SERVICE = "kafka-client"
NAMESPACE = "kafka-kraft"
CLUSTER_DOMAIN = "cluster.local"

_TIMEOUT = 60


class OpensslError(RuntimeError):
    """openssl exited non-zero; the message holds its command line and output."""


def openssl(*args: str, stdin: Optional[bytes] = None) -> bytes:
    """Run ``openssl`` with an argument list (no shell) and return its standard output."""
    argv = [shutil.which("openssl") or "openssl", *args]
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise OpensslError(
            f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout


def _new_key(path: Path, algorithm: str) -> None:
    """An unencrypted PKCS#8 PEM private key (``BEGIN PRIVATE KEY``), mode 0600."""
    if algorithm == "rsa":
        options = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    elif algorithm == "ec":
        options = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        raise ValueError(f"key algorithm {algorithm!r}: use 'rsa' or 'ec'")
    openssl("genpkey", *options, "-out", str(path))
    path.chmod(0o600)


def _subject(common_name: str, organization: Optional[str]) -> str:
    """An openssl ``-subj`` with O before CN, so the RFC 2253 form (Kafka's principal) is
    ``CN=<cn>,O=<o>``."""
    for value in (common_name, organization or ""):
        if any(c in value for c in "/,+=\\\"<>;#\n"):
            raise ValueError(f"{value!r}: keep subject values to letters, digits, '-', '.', ' '")
    return (f"/O={organization}" if organization else "") + f"/CN={common_name}"


def _principal(cert: Path) -> str:
    """The certificate's subject in RFC 2253 form, as Kafka names an SSL principal."""
    out = openssl("x509", "-in", str(cert), "-noout", "-subject", "-nameopt", "RFC2253").decode()
    return out.strip().partition("=")[2].strip() if out.startswith("subject=") else out.strip()


def _san(dns: Iterable[str], ips: Iterable[str]) -> str:
    entries = [f"DNS:{name}" for name in dns]
    entries += [f"IP:{ipaddress.ip_address(ip)}" for ip in ips]
    return ",".join(entries)


@dataclass(frozen=True)
class Issued:
    """A key and the certificate a CA signed for it (files in the CA's directory)."""

    name: str
    key: Path  # unencrypted PKCS#8 PEM
    cert: Path  # the leaf certificate
    chain: Path  # the leaf, then the CA: what cert-manager puts in tls.crt
    ca: CertificateAuthority
    #: the subject in RFC 2253 form (``CN=...,O=...``), what Kafka's default principal builder
    #: makes of the certificate: ``User:<principal>`` in ACLs
    principal: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]

    def write_pkcs1_key(self, path: Optional[Path] = None) -> Path:
        """The same RSA key as PKCS#1 (``BEGIN RSA PRIVATE KEY``), which the entrypoint refuses."""
        target = path or self.key.with_name(f"{self.name}.pkcs1.key")
        try:  # OpenSSL 3: PKCS#1 only on request
            pem = openssl("pkey", "-in", str(self.key), "-traditional")
        except OpensslError:  # OpenSSL 1.1: `rsa` writes PKCS#1 by default
            pem = openssl("rsa", "-in", str(self.key))
        if b"BEGIN RSA PRIVATE KEY" not in pem:
            raise OpensslError(f"{self.key} did not convert to PKCS#1 (is it an RSA key?)")
        _write(target, pem, 0o600)
        return target

    def tls_secret(self, *, pkcs1: bool = False) -> dict[str, bytes]:
        """The keys of a ``kubernetes.io/tls`` Secret from cert-manager's CA issuer."""
        key = self.write_pkcs1_key() if pkcs1 else self.key
        return {
            "tls.crt": self.chain.read_bytes(),
            "tls.key": key.read_bytes(),
            "ca.crt": self.ca.cert.read_bytes(),
        }


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA whose key and certificate live in ``directory``."""

    directory: Path
    name: str
    key: Path
    cert: Path  # ca.crt: what clients and peers trust
    principal: str

    def issue(
        self,
        name: str,
        *,
        common_name: Optional[str] = None,
        organization: Optional[str] = "kafka-kraft",
        dns_names: Iterable[str] = (),
        ip_addresses: Iterable[str] = (),
        server: bool = True,
        client: bool = True,
        algorithm: str = "rsa",
        days: int = 30,
        valid: Optional[tuple[datetime.datetime, datetime.datetime]] = None,
    ) -> Issued:
        """Sign a new key for ``name`` (files ``<name>.key``, ``<name>.crt``, ``<name>.chain.crt``).

        ``server``/``client`` set the extended key usages (a node certificate needs both: a
        broker is a TLS client of the controllers and of other brokers). The certificate is valid
        from now for ``days``, or over ``valid`` (not before, not after; UTC): a window in the past
        (expired) or in the future (not yet valid).
        """
        if not (server or client):
            raise ValueError("a leaf certificate needs server or client use")
        dns = tuple(dns_names)
        ips = tuple(str(ipaddress.ip_address(ip)) for ip in ip_addresses)
        key = self.directory / f"{name}.key"
        cert = self.directory / f"{name}.crt"
        chain = self.directory / f"{name}.chain.crt"
        for path in (key, cert, chain):
            if path.exists():
                raise FileExistsError(f"{path} exists: give each issued certificate its own name")
        _new_key(key, algorithm)
        csr = openssl(
            "req", "-new", "-key", str(key), "-subj", _subject(common_name or name, organization)
        )
        usages = [u for u, wanted in (("serverAuth", server), ("clientAuth", client)) if wanted]
        key_usage = "digitalSignature,keyEncipherment" if algorithm == "rsa" else "digitalSignature"
        extensions = [
            "basicConstraints = critical, CA:FALSE",
            f"keyUsage = critical, {key_usage}",
            f"extendedKeyUsage = {','.join(usages)}",
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid",
        ]
        if dns or ips:
            extensions.append(f"subjectAltName = {_san(dns, ips)}")
        with tempfile.NamedTemporaryFile("w", dir=self.directory, suffix=".ext", delete=False) as ext:
            ext.write("\n".join(extensions) + "\n")
        try:
            if valid is None:
                pem = openssl(
                    "x509", "-req", "-sha256", "-days", str(days),
                    "-CA", str(self.cert), "-CAkey", str(self.key),
                    "-set_serial", str(secrets.randbits(63) + 1),
                    "-extfile", ext.name,
                    stdin=csr,
                )
            else:
                pem = self._sign_over(csr, ext.name, *valid)
        finally:
            os.unlink(ext.name)
        _write(cert, pem, 0o644)
        _write(chain, pem + self.cert.read_bytes(), 0o644)
        return Issued(name, key, cert, chain, self, _principal(cert), dns, ips)

    def _sign_over(
        self, csr: bytes, extensions: str, not_before: datetime.datetime, not_after: datetime.datetime
    ) -> bytes:
        """``openssl ca`` (the one openssl command that takes both dates) with a throwaway database."""
        with tempfile.TemporaryDirectory(dir=self.directory) as scratch:
            work = Path(scratch)
            (work / "index.txt").write_text("")
            (work / "serial").write_text(f"{secrets.randbits(63) + 1:016X}\n")
            (work / "request.csr").write_bytes(csr)
            (work / "ca.cnf").write_text(
                "[ca]\ndefault_ca = kraft\n[kraft]\n"
                f"database = {work / 'index.txt'}\nnew_certs_dir = {work}\nserial = {work / 'serial'}\n"
                "default_md = sha256\npolicy = anything\nunique_subject = no\n"
                # the policy's order is the subject's: O then CN, as -subj gives them
                "[anything]\norganizationName = optional\ncommonName = supplied\n"
            )
            stamp = "%Y%m%d%H%M%SZ"
            openssl(
                "ca", "-batch", "-config", str(work / "ca.cnf"), "-notext",
                "-cert", str(self.cert), "-keyfile", str(self.key), "-in", str(work / "request.csr"),
                "-startdate", not_before.astimezone(datetime.timezone.utc).strftime(stamp),
                "-enddate", not_after.astimezone(datetime.timezone.utc).strftime(stamp),
                "-extfile", extensions, "-out", str(work / "issued.crt"),
            )
            return (work / "issued.crt").read_bytes()

    def client_certificate(self, user: str, *, organization: Optional[str] = "kafka-clients") -> Issued:
        """A client certificate (client use only) whose principal is ``CN=<user>,O=<organization>``."""
        return self.issue(user, common_name=user, organization=organization, server=False)


def new_ca(directory: Path, name: str = "kraft-test-ca", *, days: int = 30) -> CertificateAuthority:
    """A new self-signed CA in ``directory`` (created when missing): ``<name>.key``, ``<name>.crt``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / f"{name}.key"
    cert = directory / f"{name}.crt"
    if key.exists() or cert.exists():
        raise FileExistsError(f"{key} or {cert} exists: give each CA its own name")
    _new_key(key, "rsa")
    pem = openssl(
        "req", "-x509", "-new", "-sha256", "-key", str(key), "-days", str(days),
        "-subj", _subject(name, "kraft-entrypoint tests"),
        "-addext", "basicConstraints = critical, CA:TRUE",
        "-addext", "keyUsage = critical, keyCertSign, cRLSign",
        "-addext", "subjectKeyIdentifier = hash",
    )
    _write(cert, pem, 0o644)
    return CertificateAuthority(directory, name, key, cert, _principal(cert))


def pod_wildcard(
    service: str = SERVICE, namespace: str = NAMESPACE, cluster_domain: str = CLUSTER_DOMAIN
) -> str:
    """``*.<service>.<namespace>.svc.<domain>``: every pod FQDN of a StatefulSet's headless Service."""
    return f"*.{service}.{namespace}.svc.{cluster_domain}"


def node_certificate(
    ca: CertificateAuthority,
    name: str = "kafka-node",
    *,
    service: str = SERVICE,
    namespace: str = NAMESPACE,
    cluster_domain: str = CLUSTER_DOMAIN,
    client_service: Optional[str] = CLIENT_SERVICE,
    extra_dns: Iterable[str] = (),
    extra_ips: Iterable[str] = (),
    algorithm: str = "rsa",
    valid: Optional[tuple[datetime.datetime, datetime.datetime]] = None,
) -> Issued:
    """The certificate every pod presents, as k8s/components/secure/certificate.yaml asks
    cert-manager for it: the pod wildcard, the client Service's names, and extra SANs (an
    external host, an IP); server and client use."""
    dns = [pod_wildcard(service, namespace, cluster_domain)]
    if client_service:
        dns += [
            f"{client_service}.{namespace}.svc.{cluster_domain}",
            f"{client_service}.{namespace}.svc",
        ]
    dns += list(extra_dns)
    return ca.issue(
        name,
        common_name=f"{service}.{namespace}.svc.{cluster_domain}"[:64],
        organization="kafka-kraft",
        dns_names=dns,
        ip_addresses=extra_ips,
        algorithm=algorithm,
        valid=valid,
    )


# --- Secret volumes ------------------------------------------------------------------------

SecretData = Mapping[str, Union[bytes, str]]


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # whatever the umask


def write_secret_volume(
    directory: Path,
    data: SecretData,
    *,
    mode: int = 0o644,
    now: Optional[datetime.datetime] = None,
) -> Path:
    """Lay ``directory`` out as the kubelet mounts a Secret volume with these keys.

    The files go into a fresh ``..<UTC timestamp>.<random>`` directory; ``..data`` is a
    relative symlink to it, swapped atomically (``..data_tmp`` renamed over it) when the
    directory already holds a volume; each key is a symlink ``name -> ..data/name``; keys that
    are gone lose their symlink; the previous timestamp directory is removed. ``mode`` is the
    volume's ``defaultMode``. Returns ``directory``.
    """
    for key in data:
        if not key or key.startswith("..") or "/" in key or key in (".", ".."):
            raise ValueError(f"{key!r} is not a valid Secret key for a volume file")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("..%Y_%m_%d_%H_%M_%S.")
    payload = Path(tempfile.mkdtemp(prefix=stamp, dir=directory))
    payload.chmod(0o755)
    for key, value in data.items():
        _write(payload / key, value.encode() if isinstance(value, str) else value, mode)

    data_link = directory / "..data"
    previous = Path(os.readlink(data_link)).name if data_link.is_symlink() else None
    tmp_link = directory / "..data_tmp"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    os.symlink(payload.name, tmp_link)
    os.replace(tmp_link, data_link)

    for key in data:
        link = directory / key
        if not link.is_symlink():
            os.symlink(f"..data/{key}", link)
    for entry in directory.iterdir():
        if entry.name.startswith("..") or entry.name in data:
            continue
        if entry.is_symlink() and os.readlink(entry).startswith("..data/"):
            entry.unlink()
    if previous and previous != payload.name:
        shutil.rmtree(directory / previous, ignore_errors=True)
    return directory


def write_tls_secret(directory: Path, node: Issued, *, pkcs1: bool = False, mode: int = 0o644) -> Path:
    """``directory`` as the mounted ``kubernetes.io/tls`` Secret of ``node`` (TLS_DIR)."""
    return write_secret_volume(directory, node.tls_secret(pkcs1=pkcs1), mode=mode)


def write_users_secret(directory: Path, users: Mapping[str, str], *, mode: int = 0o644) -> Path:
    """``directory`` as the mounted SASL users Secret (SASL_USERS_DIR): file = user, content =
    password, no trailing newline (as ``kubectl create secret --from-literal`` stores it)."""
    for user, password in users.items():
        if not password:
            raise ValueError(f"user {user!r} has an empty password")
    return write_secret_volume(directory, dict(users), mode=mode)


def new_password() -> str:
    """A random password of URL-safe characters (no quote or backslash to escape in JAAS)."""
    return secrets.token_urlsafe(24)


# --- client properties ---------------------------------------------------------------------


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _properties_escape(value: str) -> str:
    """A value as java.util.Properties reads it back unchanged (backslashes, leading spaces,
    line breaks; ``:``/``=`` need no escape in a value)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "\\" + out if out.startswith(" ") else out


def client_properties(
    path: Path,
    *,
    truststore: Optional[Path] = None,
    sasl_user: Optional[str] = None,
    sasl_password: Optional[str] = None,
    client_cert: Optional[Issued] = None,
    hostname_verification: bool = True,
    sasl_mechanism: str = "PLAIN",
) -> Path:
    """Write the properties a Java Kafka client (``--command-config``, ``--producer.config``,
    ``Admin.create``) needs to reach a listener, and return ``path`` (mode 0600).

    ``truststore`` (a PEM CA bundle, e.g. ``ca.crt``) turns TLS on; ``sasl_user`` and
    ``sasl_password`` turn SASL on (``sasl_mechanism``: PLAIN, SCRAM-SHA-512 or SCRAM-SHA-256);
    ``security.protocol`` follows (``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT``, ``SASL_SSL``).
    ``client_cert`` adds a PEM key store (key + chain in one file next to ``path``) for mutual TLS.
    """
    if (sasl_user is None) != (sasl_password is None):
        raise ValueError("give both sasl_user and sasl_password, or neither")
    if client_cert is not None and truststore is None:
        raise ValueError("a client certificate needs TLS: give the truststore too")
    tls = truststore is not None
    sasl = sasl_user is not None
    protocol = {(False, False): "PLAINTEXT", (True, False): "SSL", (False, True): "SASL_PLAINTEXT",
                (True, True): "SASL_SSL"}[(tls, sasl)]
    props: dict[str, str] = {"security.protocol": protocol}
    if truststore is not None:
        props["ssl.truststore.type"] = "PEM"
        props["ssl.truststore.location"] = str(truststore)
        if not hostname_verification:
            props["ssl.endpoint.identification.algorithm"] = ""
    if client_cert is not None:
        keystore = path.with_name(f"{path.name}.keystore.pem")
        _write(keystore, client_cert.key.read_bytes() + client_cert.chain.read_bytes(), 0o600)
        props["ssl.keystore.type"] = "PEM"
        props["ssl.keystore.location"] = str(keystore)
    if sasl_user is not None and sasl_password is not None:
        scram = sasl_mechanism.startswith("SCRAM-")
        login = "scram.ScramLoginModule" if scram else "plain.PlainLoginModule"
        props["sasl.mechanism"] = sasl_mechanism
        props["sasl.jaas.config"] = (
            f"org.apache.kafka.common.security.{login} required "
            f"username={_jaas_quote(sasl_user)} password={_jaas_quote(sasl_password)};"
        )
    text = "".join(f"{key}={_properties_escape(value)}\n" for key, value in props.items())
    _write(path, text.encode(), 0o600)
    return path
