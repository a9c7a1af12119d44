"""The subject of a PEM certificate, named as Kafka names an SSL principal (RFC 2253). Pure.

Kafka's default principal for a TLS client is ``X500Principal.getName()``: the subject's RDNs in
reverse order, ``CN``/``O``/... for the attribute types Java knows by name and the dotted OID with
the value's DER as ``#hex`` for the others. A minimal DER reader is enough for that.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Optional

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
_STRINGS = {
    0x0C: "utf-8",
    0x13: "ascii",
    0x16: "ascii",
    0x14: "latin-1",
    0x1E: "utf-16-be",
    0x1C: "utf-32-be",
}
_SEQUENCE, _SET, _OID, _CONTEXT_0 = 0x30, 0x31, 0x06, 0xA0


class BadCertificate(ValueError):
    """Not a certificate this reader understands; the message says what is wrong."""


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


def subject(der: bytes) -> str:
    """The certificate's subject in RFC 2253 form, e.g. ``CN=kafka,O=example``."""
    try:
        certificate = _only(der, _SEQUENCE, "certificate")
        tbs_tag, tbs, _ = _read(certificate, 0)
        if tbs_tag != _SEQUENCE:
            raise BadCertificate("no TBSCertificate")
        fields: list[tuple[int, bytes]] = []
        offset = 0
        while offset < len(tbs) and len(fields) < 6:
            tag, value, offset = _read(tbs, offset)
            fields.append((tag, value))
        if fields and fields[0][0] == _CONTEXT_0:  # an explicit version comes first
            fields = fields[1:]
        if len(fields) < 5:
            raise BadCertificate("the TBSCertificate is too short")
        return _name(fields[4][1])  # serial, signature, issuer, validity, subject
    except IndexError:
        raise BadCertificate("it is truncated") from None


def _name(rdns: bytes) -> str:
    parts, offset = [], 0
    while offset < len(rdns):
        tag, rdn, offset = _read(rdns, offset)
        if tag != _SET:
            raise BadCertificate("a name component is not a SET")
        values, inner = [], 0
        while inner < len(rdn):
            _, pair, inner = _read(rdn, inner)
            oid_tag, oid, rest = _read(pair, 0)
            if oid_tag != _OID:
                raise BadCertificate("a name attribute has no type")
            value_tag, value, end = _read(pair, rest)
            values.append(_attribute(_oid(oid), value_tag, value, pair[rest:end]))
        parts.append("+".join(values))
    return ",".join(reversed(parts))


def _attribute(oid: str, tag: int, value: bytes, encoded: bytes) -> str:
    keyword = _NAMES.get(oid)
    encoding = _STRINGS.get(tag)
    if keyword is None or encoding is None:
        return f"{keyword or oid}=#{encoded.hex()}"
    try:
        text = value.decode(encoding)
    except UnicodeDecodeError:
        return f"{keyword}=#{encoded.hex()}"
    return f"{keyword}={_escaped(text)}"


def _escaped(text: str) -> str:
    out = "".join("\\" + char if char in ',+"\\<>;' else char for char in text)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def _oid(raw: bytes) -> str:
    numbers, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    if not numbers:
        raise BadCertificate("an empty object identifier")
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (first, numbers[0] - 40 * first, *numbers[1:]))


def _only(data: bytes, tag: int, what: str) -> bytes:
    found, value, end = _read(data, 0)
    if found != tag or end != len(data):
        raise BadCertificate(f"it is not a DER {what}")
    return value


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, value, offset after it) of the DER element at ``offset``."""
    tag, length, offset = data[offset], data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise BadCertificate("a length it cannot read")
        length, offset = int.from_bytes(data[offset : offset + count], "big"), offset + count
    end = offset + length
    if end > len(data):
        raise BadCertificate("it is truncated")
    return tag, data[offset:end], end


def first_certificate(pem: bytes) -> Optional[bytes]:
    """The DER of the first CERTIFICATE block, if there is one."""
    return next((der for label, der in pem_blocks(pem) if label == "CERTIFICATE"), None)
