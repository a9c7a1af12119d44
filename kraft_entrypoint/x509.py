"""What a start needs from a PEM certificate, read with the ``cryptography`` package. Pure.

Imported only when TLS is on (``credentials`` imports it on that path): ``cryptography`` loads
OpenSSL, which a plaintext start does not need.

* :func:`read`: the subject, the subject alternative names and the validity period. The subject
  is named as Kafka names an SSL principal, ``X500Principal.getName()`` (RFC 2253): the RDNs in
  reverse order, ``CN``/``O``/... for the attribute types Java knows by name, the dotted OID with
  the value's DER as ``#hex`` for the others.
* :func:`problem_with` says whether the names cover the host names clients dial, now.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from cryptography import x509 as _x509

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_NAMES = {  # the keywords X500Principal.getName(RFC2253) uses
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
_STRINGS = {  # the DER string tags Java shows as text, and how their bytes encode
    0x0C: "utf-8",
    0x13: "ascii",
    0x16: "ascii",
    0x14: "latin-1",
    0x1E: "utf-16-be",
    0x1C: "utf-32-be",
}


class BadCertificate(ValueError):
    """Not a certificate that can be read; the message says what is wrong."""


@dataclass(frozen=True)
class Certificate:
    """The facts of one certificate a start checks and uses (no key material)."""

    subject: str  # RFC 2253, as Kafka names the principal
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime.datetime  # UTC
    not_after: datetime.datetime  # UTC

    @property
    def names(self) -> str:
        """The subject alternative names as openssl prints them: ``DNS:a, IP Address:1.2.3.4``."""
        shown = [f"DNS:{dns}" for dns in self.dns_names] + [f"IP:{ip}" for ip in self.ip_addresses]
        return ", ".join(shown) if shown else "no subject alternative names"


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """(label, DER) of every PEM block, in order ("CERTIFICATE", "PRIVATE KEY", ...)."""
    blocks = []
    for match in _PEM_BLOCK.finditer(data):
        try:
            der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadCertificate(f"its {match.group(1).decode()} block is not valid base64") from None
        blocks.append((match.group(1).decode(), der))
    return blocks


def first_certificate(pem: bytes) -> Optional[bytes]:
    """The DER of the first CERTIFICATE block, if there is one."""
    return next((der for label, der in pem_blocks(pem) if label == "CERTIFICATE"), None)


def read(der: bytes) -> Certificate:
    """Subject, subject alternative names and validity of the DER certificate ``der``."""
    try:
        certificate = _x509.load_der_x509_certificate(der)
        try:
            san = certificate.extensions.get_extension_for_class(_x509.SubjectAlternativeName).value
        except _x509.ExtensionNotFound:
            dns: list[str] = []
            ips: list[str] = []
        else:
            dns = san.get_values_for_type(_x509.DNSName)
            ips = [str(ip) for ip in san.get_values_for_type(_x509.IPAddress)]
        return Certificate(
            _rfc2253(certificate.subject),
            tuple(dns),
            tuple(ips),
            certificate.not_valid_before_utc,
            certificate.not_valid_after_utc,
        )
    except ValueError as error:  # cryptography's parse errors are ValueErrors
        raise BadCertificate(str(error) or "it is not a DER certificate") from None


def problem_with(certificate: Certificate, hosts: Sequence[str], now: datetime.datetime) -> Optional[str]:
    """Why ``certificate`` cannot serve ``hosts`` at ``now`` (UTC), or None when it can.

    A host is covered by a DNS name equal to it (case-insensitive) or by a wildcard in the
    left-most label only (``*.kafka-svc.ns.svc.cluster.local`` covers exactly one label), and an
    IP address host by an equal IP address name; the subject's CN is not looked at (clients do not).
    """
    if now < certificate.not_before:
        return f"is not valid before {_when(certificate.not_before)} (now {_when(now)}; check the clock)"
    if now > certificate.not_after:
        return f"expired on {_when(certificate.not_after)} (now {_when(now)}); renew it"
    for host in hosts:
        if not covers(certificate, host):
            return (
                f"does not cover {host} (it holds {certificate.names}); clients verify the host name, "
                "so issue the certificate with a subject alternative name for it"
            )
    return None


def covers(certificate: Certificate, host: str) -> bool:
    """Whether ``host`` (a DNS name or an IP address) is one of the certificate's names."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return any(_dns_match(pattern, host) for pattern in certificate.dns_names)
    return any(ipaddress.ip_address(ip) == address for ip in certificate.ip_addresses)


def _dns_match(pattern: str, host: str) -> bool:
    wanted, given = pattern.lower().rstrip(".").split("."), host.lower().rstrip(".").split(".")
    if len(wanted) != len(given) or any("*" in label for label in wanted[1:]):
        return False
    first, rest = wanted[0], wanted[1:]
    if rest != given[1:]:
        return False
    if "*" not in first:
        return first == given[0]
    if first.count("*") > 1 or len(rest) < 2:  # one wildcard, and never over a top-level domain
        return False
    prefix, _, suffix = first.partition("*")
    label = given[0]
    return len(label) >= len(prefix) + len(suffix) and label.startswith(prefix) and label.endswith(suffix)


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- the subject as Java names it -----------------------------------------------------------


def _rfc2253(name: _x509.Name) -> str:
    parts = ["+".join(_attribute(attribute) for attribute in rdn) for rdn in name.rdns]
    return ",".join(reversed(parts))


def _attribute(attribute: _x509.NameAttribute) -> str:  # type: ignore[type-arg]
    oid = attribute.oid.dotted_string
    keyword = _NAMES.get(oid)
    tag = attribute._type.value  # the ASN.1 string type the certificate used
    value = attribute.value
    encoding = _STRINGS.get(tag)
    if keyword is not None and encoding is not None and isinstance(value, str):
        return f"{keyword}={_escaped(value)}"
    return f"{keyword or oid}=#{_der(tag, value, encoding)}"


def _der(tag: int, value: object, encoding: Optional[str]) -> str:
    """The hex of the value's DER, as Java shows an attribute it has no keyword or text for."""
    if isinstance(value, bytes):  # a BIT STRING (X500UniqueIdentifier): no unused bits
        content, tag = b"\0" + value, 0x03
    else:
        content = str(value).encode(encoding or "utf-8")
    size, width = len(content), (len(content).bit_length() + 7) // 8
    length = bytes([size]) if size < 0x80 else bytes([0x80 | width]) + size.to_bytes(width, "big")
    return (bytes([tag]) + length + content).hex()


def _escaped(text: str) -> str:
    out = "".join("\\" + char if char in ',+"\\<>;' else char for char in text)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out
