"""TLS_DIR's certificate must cover this pod's names and be valid now: real openssl certificates
(kraftlab/pki) with SAN and validity variants, through the entrypoint's --dry-run (exit 2 naming
TLS_DIR, the name not covered and the names the certificate holds)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kraft_entrypoint import x509
from kraftlab import pki

from .support import Cli, Outcome, valid_env

FQDN0 = "kafka-0.kafka-svc.kafka-kraft.svc.cluster.local"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> pki.CertificateAuthority:
    return pki.new_ca(tmp_path_factory.mktemp("ca"))


def _dry_run(cli: Cli, tmp_path: Path, template: Path, node: pki.Issued, **changes: str) -> Outcome:
    secret = pki.write_tls_secret(tmp_path / "tls", node)
    return cli.run(["--dry-run"], valid_env(tmp_path, template, TLS_DIR=str(secret), **changes))


def _error(outcome: Outcome) -> str:
    assert outcome.exit_code == 2, outcome.log
    (line,) = [line for line in outcome.log.splitlines() if line.startswith("ERROR: ")]
    return line


@pytest.mark.parametrize(
    ("dns", "ips", "changes"),
    [
        ([pki.pod_wildcard()], [], {}),
        ([FQDN0.upper()], [], {}),  # DNS names compare without case
        ([pki.pod_wildcard(), "kafka-0.example.com"], [], {"EXTERNAL_HOST": "kafka-{ordinal}.example.com"}),
        ([pki.pod_wildcard(), "*.example.com"], [], {"EXTERNAL_HOST": "kafka-{ordinal}.example.com"}),
        ([pki.pod_wildcard()], ["192.0.2.7"], {"EXTERNAL_HOST": "192.0.2.7", "EXTERNAL_PORT_BASE": "31090"}),
        ([pki.pod_wildcard()], ["2001:db8::7"], {"EXTERNAL_HOST": "2001:db8::7"}),
    ],
    ids=["pod-wildcard", "exact-other-case", "external-exact", "external-wildcard", "external-ip", "ipv6"],
)
def test_certificate_covering_every_name_is_accepted(
    cli: Cli, tmp_path: Path, template_path: Path, ca: pki.CertificateAuthority,
    dns: list[str], ips: list[str], changes: dict[str, str],
) -> None:
    node = ca.issue(f"ok-{tmp_path.name}", dns_names=dns, ip_addresses=ips)
    outcome = _dry_run(cli, tmp_path, template_path, node, **changes)
    assert outcome.exit_code == 0, outcome.log


@pytest.mark.parametrize(
    ("dns", "ips", "changes", "missing"),
    [
        (["*.other-svc.kafka-kraft.svc.cluster.local"], [], {}, FQDN0),
        (["*.kafka-kraft.svc.cluster.local"], [], {}, FQDN0),  # a wildcard covers one label only
        (["kafka-0.*.kafka-kraft.svc.cluster.local"], [], {}, FQDN0),  # left-most label only
        ([], [], {}, FQDN0),
        ([pki.pod_wildcard()], [], {"EXTERNAL_HOST": "kafka-{ordinal}.example.com"}, "kafka-0.example.com"),
        ([pki.pod_wildcard(), "kafka-1.example.com"], [], {"EXTERNAL_HOST": "kafka-{ordinal}.example.com"},
         "kafka-0.example.com"),
        ([pki.pod_wildcard(), "192.0.2.7"], [], {"EXTERNAL_HOST": "192.0.2.7"}, "192.0.2.7"),  # DNS, not IP
        ([pki.pod_wildcard()], ["192.0.2.8"], {"EXTERNAL_HOST": "192.0.2.7"}, "192.0.2.7"),
    ],
    ids=["other-service", "two-labels", "inner-wildcard", "no-san", "external-missing",
         "external-other-ordinal", "ip-as-dns-name", "other-ip"],
)
def test_certificate_missing_a_name_exits_2(
    cli: Cli, tmp_path: Path, template_path: Path, ca: pki.CertificateAuthority,
    dns: list[str], ips: list[str], changes: dict[str, str], missing: str,
) -> None:
    """Exit 2 naming TLS_DIR, the name not covered and every name the certificate holds."""
    node = ca.issue(f"bad-{tmp_path.name}", dns_names=dns, ip_addresses=ips)
    error = _error(_dry_run(cli, tmp_path, template_path, node, **changes))
    assert error.startswith("ERROR: TLS_DIR (--tls-dir): tls.crt in ")
    assert f"does not cover {missing} (it holds " in error
    for name in dns:
        assert f"DNS:{name}" in error
    for ip in ips:
        assert f"IP:{ip}" in error
    if not dns and not ips:
        assert "no subject alternative names" in error


@pytest.mark.parametrize(
    ("valid", "words"),
    [
        ((NOW - 30 * DAY, NOW - DAY), "expired on "),
        ((NOW + DAY, NOW + 30 * DAY), "is not valid before "),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_certificate_outside_its_validity_exits_2(
    cli: Cli, tmp_path: Path, template_path: Path, ca: pki.CertificateAuthority,
    valid: tuple[datetime.datetime, datetime.datetime], words: str,
) -> None:
    node = pki.node_certificate(ca, f"dated-{tmp_path.name}", valid=valid)
    error = _error(_dry_run(cli, tmp_path, template_path, node))
    assert "TLS_DIR (--tls-dir): tls.crt" in error
    assert words in error
    assert " UTC" in error


def _der(node: pki.Issued) -> bytes:
    der = x509.first_certificate(node.cert.read_bytes())
    assert der is not None
    return der


def test_read_gives_the_subject_names_and_dates(tmp_path: Path, ca: pki.CertificateAuthority) -> None:
    """What the check reads equals what openssl put in: RFC 2253 subject, SANs, validity."""
    valid = (NOW.replace(microsecond=0) - DAY, NOW.replace(microsecond=0) + DAY)
    node = ca.issue(
        f"read-{tmp_path.name}", common_name="kafka-svc", dns_names=["a.example", "*.b.example"],
        ip_addresses=["192.0.2.1"], valid=valid,
    )
    read = x509.read(_der(node))
    assert read.subject == node.principal == "CN=kafka-svc,O=kafka-kraft"
    assert read.dns_names == ("a.example", "*.b.example")
    assert read.ip_addresses == ("192.0.2.1",)
    assert (read.not_before, read.not_after) == valid
    assert read.names == "DNS:a.example, DNS:*.b.example, IP:192.0.2.1"


def test_garbage_der_is_a_bad_certificate() -> None:
    with pytest.raises(x509.BadCertificate):
        x509.read(b"\x30\x03\x02\x01\x00")
