"""A real start with TLS and SASL Secrets: the files it derives, their modes, and what it logs."""

from __future__ import annotations

from pathlib import Path

import jproperties

from kraftlab import pki

from .support import FakeKafka, run

PASSWORDS = {"kafka": "inter-Broker-pw-1", "admin": 'adm"in\\pw-2', "alice": "alice-pw-3"}


def test_secure_start_writes_keystore_and_config_0600_and_logs_no_secret(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """Keystore = PKCS#8 key then chain (0600); the config holds every user (0600); no secret in stderr."""
    node = pki.node_certificate(pki.new_ca(tmp_path / "ca"))
    env = fake.env(
        base_environ,
        TLS_DIR=str(pki.write_tls_secret(tmp_path / "tls", node)),
        SASL_USERS_DIR=str(pki.write_users_secret(tmp_path / "users", PASSWORDS)),
        AUTHORIZATION="acl",
        SUPER_USERS="admin",
    )
    dry = run(["--dry-run"], env)
    result = run([], env)
    assert result.returncode == 0, result.stderr
    keystore = fake.config.parent / "tls-keystore.pem"
    assert keystore.stat().st_mode & 0o777 == 0o600
    assert fake.config.stat().st_mode & 0o777 == 0o600
    text = keystore.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")
    assert node.key.read_text().strip() in text
    assert text.count("-----BEGIN CERTIFICATE-----") == 2
    loaded = jproperties.Properties()
    loaded.load(fake.config.read_bytes(), "iso-8859-1")
    jaas = loaded["listener.name.sasl_ssl.plain.sasl.jaas.config"].data
    assert 'username="kafka" password="inter-Broker-pw-1"' in jaas
    assert 'user_admin="adm\\"in\\\\pw-2"' in jaas
    assert 'user_alice="alice-pw-3"' in jaas
    key_lines = node.key.read_text().splitlines()[1:-1]
    for output in (result.stderr, dry.stderr, dry.stdout.decode()):
        for secret in (*PASSWORDS.values(), *key_lines):
            assert secret not in output
    assert fake.format_calls()  # formatted with the secure config
