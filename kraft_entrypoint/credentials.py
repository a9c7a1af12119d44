"""Read TLS_DIR and SASL_USERS_DIR (Secrets mounted as volumes) and derive the keystore file.

Reading only validates; the one write is the key+chain PEM Kafka's keystore takes, mode 0600,
beside KRAFT_CONFIG. Nothing here logs key material or a password.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import files
from kraft_entrypoint.commands import scram_password_problem
from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.options import name
from kraft_entrypoint.security import Credentials, is_scram
from kraft_entrypoint.settings import Settings

MAX_PEM_BYTES = 1024 * 1024
MAX_PASSWORD_BYTES = 64 * 1024
PKCS8_HOWTO = (
    "convert it with `openssl pkcs8 -topk8 -nocrypt -in tls.key -out tls.key.pk8`, or let "
    "cert-manager write PKCS#8 with `privateKey.encoding: PKCS8` in the Certificate"
)


@dataclass(frozen=True)
class Material:
    """What a start needs from the Secrets: the pure facts, and the keystore bytes to write."""

    credentials: Credentials
    keystore_pem: Optional[bytes] = None

    def __repr__(self) -> str:  # never print the key
        return f"Material({self.credentials.keystore!r}, users={len(self.credentials.users)})"


def read(settings: Settings, keystore_path: str, hosts: Sequence[str] = ()) -> Material:
    """Validate and read every Secret the settings name; exit 2 (InvalidInput) naming the variable.

    ``hosts`` are the names clients dial this node by: TLS_DIR's certificate must cover them.
    """
    credentials, keystore_pem = Credentials(), None
    inputs = settings.security
    if inputs.tls_dir is not None:
        keystore_pem, subject = _read_tls(inputs.tls_dir, hosts)
        credentials = Credentials(
            keystore=keystore_path, truststore=os.path.join(inputs.tls_dir, "ca.crt"), node_subject=subject
        )
    if inputs.sasl_users_dir is not None:
        users = _read_users(inputs.sasl_users_dir)
        if inputs.sasl_inter_broker_user not in dict(users):
            raise InvalidInput(
                f"{name('SASL_INTER_BROKER_USER')} is {inputs.sasl_inter_broker_user!r} but "
                f"{inputs.sasl_users_dir} (SASL_USERS_DIR) has no file of that name; add the user to the "
                f"Secret, e.g. a key {inputs.sasl_inter_broker_user} holding its password"
            )
        if is_scram(inputs.sasl_mechanism):
            for user, password in users:
                problem = scram_password_problem(password)
                if problem is not None:
                    raise InvalidInput(
                        f"{name('SASL_USERS_DIR')}: the password of {user!r} {problem} "
                        f"({name('SASL_MECHANISM')}={inputs.sasl_mechanism}); choose one without them"
                    )
        credentials = Credentials(
            credentials.keystore, credentials.truststore, credentials.node_subject, users
        )
    return Material(credentials, keystore_pem)


def write_keystore(path: str, data: bytes) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        files.write_atomic(path, data, mode=0o600)
    except OSError as error:
        raise InvalidInput(
            f"cannot write the TLS keystore {path} beside {name('KRAFT_CONFIG')}: "
            f"{error.strerror}; KRAFT_CONFIG's directory must be writable"
        ) from None


def _read_tls(directory: str, hosts: Sequence[str]) -> tuple[bytes, str]:
    """The keystore PEM (PKCS#8 key, then tls.crt's chain) and the node certificate's subject."""
    # x509 here, not at the top: it loads the cryptography package (OpenSSL), only TLS needs it
    from kraft_entrypoint import x509

    _require_directory("TLS_DIR", directory, "a kubernetes.io/tls Secret mounted as a volume")
    chain = _pem_file(directory, "tls.crt")
    key = _pem_file(directory, "tls.key")
    ca = _pem_file(directory, "ca.crt")
    certificates = [der for label, der in _blocks("tls.crt", chain) if label == "CERTIFICATE"]
    if not certificates:
        raise _tls_problem("tls.crt", "holds no CERTIFICATE block")
    if not any(label == "CERTIFICATE" for label, _ in _blocks("ca.crt", ca)):
        raise _tls_problem("ca.crt", "holds no CERTIFICATE block (the CA that signs peers and clients)")
    labels = [label for label, _ in _blocks("tls.key", key)]
    if "PRIVATE KEY" not in labels:
        if "RSA PRIVATE KEY" in labels or "EC PRIVATE KEY" in labels:
            raise _tls_problem(
                "tls.key", f"is a PKCS#1/SEC1 key; Kafka needs unencrypted PKCS#8: {PKCS8_HOWTO}"
            )
        if "ENCRYPTED PRIVATE KEY" in labels:
            raise _tls_problem(
                "tls.key",
                "is encrypted; Kafka's PEM keystore here needs an unencrypted "
                f"PKCS#8 key (protect the Secret instead): {PKCS8_HOWTO}",
            )
        raise _tls_problem("tls.key", "holds no PRIVATE KEY block")
    try:
        node = x509.read(certificates[0])
    except x509.BadCertificate as problem:
        raise _tls_problem("tls.crt", f"has a first certificate that cannot be read ({problem})") from None
    unusable = x509.problem_with(node, hosts, datetime.datetime.now(datetime.timezone.utc))
    if unusable is not None:
        raise _tls_problem("tls.crt", f"in {directory} {unusable}")
    key_block = _block_text(key, "PRIVATE KEY")
    chain_text = b"".join(_block_text_all(chain, "CERTIFICATE"))
    return key_block + chain_text, node.subject


def _read_users(directory: str) -> tuple[tuple[str, str], ...]:
    """(user, password) for each visible file; Kubernetes' hidden ..data entries are skipped."""
    _require_directory("SASL_USERS_DIR", directory, "a Secret with one key per user mounted as a volume")
    users = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith("."):
            continue
        path = os.path.join(directory, entry)
        try:
            data = files.read_regular(path, MAX_PASSWORD_BYTES)
        except (OSError, files.UnusableFile) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise InvalidInput(
                f"{name('SASL_USERS_DIR')}: cannot read the user file {path}: {reason}"
            ) from None
        password = (data or b"").decode("utf-8", "replace").rstrip("\r\n")
        if not password:
            raise InvalidInput(
                f"{name('SASL_USERS_DIR')}: the user {entry!r} has an empty password in {path}; "
                "every user file holds that user's password"
            )
        if not entry.replace("-", "").replace("_", "").replace(".", "").isalnum() or not entry.isascii():
            raise InvalidInput(
                f"{name('SASL_USERS_DIR')}: {entry!r} is not a user name Kafka's PLAIN accepts "
                "here (letters, digits, '.', '_', '-')"
            )
        users.append((entry, password))
    if not users:
        raise InvalidInput(
            f"{name('SASL_USERS_DIR')} {directory} holds no user file; add one file per user "
            "(file name = user, content = password), e.g. kafka and admin"
        )
    return tuple(users)


def _require_directory(variable: str, directory: str, what: str) -> None:
    if not os.path.isdir(directory):
        raise InvalidInput(f"{name(variable)} {directory} is not a directory; it must be {what}")


def _pem_file(directory: str, file_name: str) -> bytes:
    path = os.path.join(directory, file_name)
    try:
        data = files.read_regular(path, MAX_PEM_BYTES)
    except (OSError, files.UnusableFile) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise _tls_problem(file_name, f"cannot be read: {reason}") from None
    if data is None:
        raise _tls_problem(file_name, f"is missing from {directory}")
    return data


def _blocks(file_name: str, data: bytes) -> list[tuple[str, bytes]]:
    from kraft_entrypoint import x509  # only TLS reads PEM

    try:
        blocks = x509.pem_blocks(data)
    except x509.BadCertificate as problem:
        raise _tls_problem(file_name, str(problem)) from None
    if not blocks:
        raise _tls_problem(file_name, "is not PEM (no -----BEGIN ...----- block)")
    return blocks


def _block_text(data: bytes, label: str) -> bytes:
    return _block_text_all(data, label)[0]


def _block_text_all(data: bytes, label: str) -> list[bytes]:
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    texts, offset = [], 0
    while (start := data.find(begin, offset)) >= 0:
        stop = data.index(end, start) + len(end)
        texts.append(data[start:stop].replace(b"\r\n", b"\n") + b"\n")
        offset = stop
    return texts


def _tls_problem(file_name: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{name('TLS_DIR')}: {file_name} {problem}")
