"""cert-manager's ``Certificate`` and ``Issuer`` (CRDs kubernetes-validate does not know) checked
against JSON schemas written here for ``cert-manager.io/v1`` (CERT_MANAGER_SCHEMAS): every field
name of the Certificate/Issuer spec that cert-manager v1 accepts, closed to any other (so a typo
fails), with the enums and types of the fields these overlays use; and proof the check can fail.

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

from typing import Any

import jsonschema  # installed with kubernetes-validate (the test extra)
import pytest
import yaml

from .support import Obj, Rendered

_STRINGS = {"type": "array", "items": {"type": "string"}}
_ISSUER_REF = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "kind": {"enum": ["Issuer", "ClusterIssuer"]},
        "group": {"const": "cert-manager.io"},
    },
}
_DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"}
_USAGES = [
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime",
    "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
    "microsoft sgc", "netscape sgc",
]
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
}
#: cert-manager.io/v1, written from cert-manager's API reference: the fields of the spec are
#: closed (additionalProperties false) over the full v1 field list.
CERT_MANAGER_SCHEMAS: dict[str, Obj] = {
    "Certificate": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "kind": {"const": "Certificate"},
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["secretName", "issuerRef"],
                "additionalProperties": False,
                "properties": {
                    "secretName": {"type": "string", "minLength": 1},
                    "issuerRef": _ISSUER_REF,
                    "commonName": {"type": "string", "maxLength": 64},
                    "dnsNames": _STRINGS,
                    "ipAddresses": _STRINGS,
                    "uris": _STRINGS,
                    "emailAddresses": _STRINGS,
                    "otherNames": {"type": "array"},
                    "isCA": {"type": "boolean"},
                    "duration": _DURATION,
                    "renewBefore": _DURATION,
                    "renewBeforePercentage": {"type": "integer"},
                    "revisionHistoryLimit": {"type": "integer", "minimum": 1},
                    "usages": {"type": "array", "items": {"enum": _USAGES}},
                    "privateKey": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                            "encoding": {"enum": ["PKCS1", "PKCS8"]},
                            "size": {"type": "integer"},
                            "rotationPolicy": {"enum": ["Never", "Always"]},
                        },
                    },
                    "subject": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            **{
                                k: _STRINGS
                                for k in (
                                    "organizations", "countries", "organizationalUnits",
                                    "localities", "provinces", "streetAddresses", "postalCodes",
                                )
                            },
                            "serialNumber": {"type": "string"},
                        },
                    },
                    "literalSubject": {"type": "string"},
                    "secretTemplate": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"labels": {"type": "object"}, "annotations": {"type": "object"}},
                    },
                    "keystores": {"type": "object"},
                    "additionalOutputFormats": {"type": "array"},
                    "encodeUsagesInRequest": {"type": "boolean"},
                    "nameConstraints": {"type": "object"},
                    "signatureAlgorithm": {"type": "string"},
                },
            },
        },
    },
    "Issuer": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "kind": {"const": "Issuer"},
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,  # exactly one issuer type
                "properties": {
                    "selfSigned": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"crlDistributionPoints": _STRINGS},
                    },
                    "ca": {
                        "type": "object",
                        "required": ["secretName"],
                        "additionalProperties": False,
                        "properties": {
                            "secretName": {"type": "string", "minLength": 1},
                            "crlDistributionPoints": _STRINGS,
                            "issuingCertificateURLs": _STRINGS,
                            "ocspServers": _STRINGS,
                        },
                    },
                    "acme": {"type": "object"},
                    "vault": {"type": "object"},
                    "venafi": {"type": "object"},
                },
            },
        },
    },
}


def cert_manager_errors(doc: Obj) -> list[str]:
    schema = CERT_MANAGER_SCHEMAS.get(doc["kind"])
    if schema is None:
        return [f"{doc['kind']}: no schema here for this cert-manager kind"]
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_cert_manager_objects_match_their_schema(out: Rendered) -> None:
    """Certificates and Issuers are valid cert-manager.io/v1 objects (schemas above)."""
    for doc in out.docs:
        if doc["apiVersion"].startswith("cert-manager.io/"):
            assert cert_manager_errors(doc) == [], (doc["kind"], doc["metadata"]["name"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c["spec"].update(dnsName=["x"]), "Additional properties"),
        (lambda c: c["spec"]["privateKey"].update(encoding="pkcs8"), "is not one of"),
        (lambda c: c["spec"].pop("issuerRef"), "'issuerRef' is a required property"),
        (lambda c: c["spec"].update(usages=["server-auth"]), "is not one of"),
        (lambda c: c["spec"].update(duration="90d"), "does not match"),
    ],
    ids=["typo", "lower-case-encoding", "no-issuer", "bad-usage", "bad-duration"],
)
def test_cert_manager_schema_rejects_mistakes(
    rendered: dict[str, Rendered], change: Any, expected: str
) -> None:
    """The schema check can fail: a typo, a wrong enum, a missing field are each reported."""
    cert = yaml.safe_load(yaml.safe_dump(rendered["secure"].get("Certificate", "kafka-tls")))
    change(cert)
    errors = cert_manager_errors(cert)
    assert any(expected in e for e in errors), errors
