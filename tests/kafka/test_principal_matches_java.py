"""The node certificate's subject as x509.py names it is Java's X500Principal.getName() exactly,
for a subject with every keyword Java knows, others it shows as #hex, escapes and a multi-valued
RDN (an openssl certificate; Java 17 reads it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kraft_entrypoint import x509
from kraftlab import pki

FIXTURES = Path(__file__).parent.parent / "fixtures"
SUBJECT = (
    "/DC=com/C=DE/ST=B/L=x/street=s 1/O=a\\,b;c/OU=\u00fc <x>/UID=u1/emailAddress=a@b.c/serialNumber=42"
    "/CN=x+GN=y"
)


def test_subject_is_named_as_java_names_it(tmp_path: Path) -> None:
    cert = tmp_path / "odd.crt"
    pki.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"), "-out",
                str(cert), "-days", "1", "-utf8", "-multivalue-rdn", "-subj", SUBJECT)
    java = subprocess.run(["java", str(FIXTURES / "PrincipalName.java"), str(cert)],
                          capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    der = x509.first_certificate(cert.read_bytes())
    assert der is not None
    assert x509.read(der).subject == java
    assert "2.5.4.42=#0c0179" in java  # GN: no keyword in Java, so DER hex
