"""A few Kafka requests written by hand over TLS: what a Java client of the lab cannot send.

The CONTROLLER listener serves the quorum's own requests (Vote, BrokerRegistration, ...), which
no Kafka client sends; to show what an arbitrary TLS client meets there, this module speaks the
wire protocol directly (Kafka's "flexible" request header v2, response header v1) and reports
what happened at each step: the TCP connection, the TLS handshake (with or without a client
certificate), and the error code in the response. Only two requests, both version 0, which
Kafka 3.3 to 4.x accept alike:

* ``describe-quorum`` (DescribeQuorum, key 55): needs DESCRIBE on the cluster;
* ``vote`` (Vote, key 52) for a candidate that does not exist, at epoch 0: needs CLUSTER_ACTION;
  a node that authorized it would answer with a stale-epoch or unknown-voter error, not change
  the quorum.

Run inside a namespace: ``python -m kraftlab.wire describe-quorum --host H --port P --ca CA
[--cert C --key K]``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import struct
import sys
from dataclasses import asdict, dataclass
from typing import Optional

API_VOTE = 52
API_DESCRIBE_QUORUM = 55
METADATA_TOPIC = "__cluster_metadata"
#: TLS record content types: alert (21) and handshake (22).
TLS_RECORD_TYPES = (21, 22)

#: The error codes the tests name (org.apache.kafka.common.protocol.Errors).
ERRORS = {
    0: "NONE",
    31: "CLUSTER_AUTHORIZATION_FAILED",
    35: "UNSUPPORTED_VERSION",
    104: "INCONSISTENT_CLUSTER_ID",
}


@dataclass
class Outcome:
    """What happened, step by step; ``stage`` is the last step reached."""

    stage: str  # "connect", "handshake", "request", "response"
    failure: str = ""  # the exception at ``stage`` (empty when the response was read)
    peer_subject: str = ""  # the server certificate's subject, once the handshake succeeded
    error_code: Optional[int] = None
    error_name: str = ""

    @property
    def answered(self) -> bool:
        return self.stage == "response" and self.error_code is not None


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _compact_string(text: Optional[str]) -> bytes:
    if text is None:
        return b"\x00"
    data = text.encode()
    return _uvarint(len(data) + 1) + data


def _compact_array(items: list[bytes]) -> bytes:
    return _uvarint(len(items) + 1) + b"".join(items)


NO_TAGS = b"\x00"


def request_header(api_key: int, correlation_id: int, client_id: str = "kraftlab-wire") -> bytes:
    """Request header v2: key, version 0, correlation id, client id (int16 length), no tags."""
    cid = client_id.encode()
    return struct.pack(">hhih", api_key, 0, correlation_id, len(cid)) + cid + NO_TAGS


def describe_quorum_body() -> bytes:
    partition = struct.pack(">i", 0) + NO_TAGS
    topic = _compact_string(METADATA_TOPIC) + _compact_array([partition]) + NO_TAGS
    return _compact_array([topic]) + NO_TAGS


def vote_body(cluster_id: Optional[str], candidate_id: int) -> bytes:
    # partition index, candidate epoch, candidate id, last offset epoch, last offset
    partition = struct.pack(">iiiiq", 0, 0, candidate_id, 0, 0) + NO_TAGS
    topic = _compact_string(METADATA_TOPIC) + _compact_array([partition]) + NO_TAGS
    return _compact_string(cluster_id) + _compact_array([topic]) + NO_TAGS


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def _read_uvarint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def top_level_error(response: bytes, correlation_id: int) -> int:
    """The first field of a flexible response after header v1 (correlation id, tagged fields)."""
    (got,) = struct.unpack_from(">i", response, 0)
    if got != correlation_id:
        raise ValueError(f"correlation id {got}, expected {correlation_id}")
    tags, offset = _read_uvarint(response, 4)
    for _ in range(tags):
        _, offset = _read_uvarint(response, offset)
        size, offset = _read_uvarint(response, offset)
        offset += size
    (code,) = struct.unpack_from(">h", response, offset)
    return int(code)


def tls_context(ca: str, cert: Optional[str], key: Optional[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=ca)
    if cert:
        context.load_cert_chain(certfile=cert, keyfile=key)
    return context


def send(
    host: str,
    port: int,
    api_key: int,
    body: bytes,
    *,
    ca: Optional[str],
    cert: Optional[str] = None,
    key: Optional[str] = None,
    timeout: float = 15,
) -> Outcome:
    """Connect, handshake (TLS unless ``ca`` is None), send one request, read its error code."""
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        return Outcome("connect", repr(error))
    with raw:
        sock: socket.socket = raw
        outcome = Outcome("handshake")
        if ca is not None:
            try:
                tls = tls_context(ca, cert, key).wrap_socket(raw, server_hostname=host)
            except (OSError, ssl.SSLError) as error:
                return Outcome("handshake", repr(error))
            subject = (tls.getpeercert() or {}).get("subject", ())
            outcome.peer_subject = ",".join(f"{pair[0]}={pair[1]}" for rdn in subject for pair in rdn)
            sock = tls
        correlation_id = 7
        frame = request_header(api_key, correlation_id) + body
        outcome.stage = "request"
        try:
            sock.sendall(struct.pack(">i", len(frame)) + frame)
            head = _read_exact(sock, 4)
            if head[0] in TLS_RECORD_TYPES and head[1] == 3:  # what a TLS server answers plaintext with
                record = f"content type {head[0]}, version 3.{head[2]}"
                outcome.failure = f"a TLS record ({record}), not a Kafka response"
                return outcome
            (size,) = struct.unpack(">i", head)
            response = _read_exact(sock, size)
        except (OSError, ssl.SSLError) as error:
            outcome.failure = repr(error)
            return outcome
        outcome.stage = "response"
        outcome.error_code = top_level_error(response, correlation_id)
        outcome.error_name = ERRORS.get(outcome.error_code, f"error {outcome.error_code}")
        return outcome


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kraftlab.wire", description=__doc__.split("\n")[0])
    parser.add_argument("request", choices=("describe-quorum", "vote"))
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", help="PEM CA bundle to verify the server with (omit for no TLS)")
    parser.add_argument("--cert", help="PEM certificate chain to present")
    parser.add_argument("--key", help="its PEM private key")
    parser.add_argument("--cluster-id", help="the cluster id a Vote carries")
    parser.add_argument("--candidate-id", type=int, default=9999)
    args = parser.parse_args(argv)
    if args.request == "vote":
        api_key, body = API_VOTE, vote_body(args.cluster_id, args.candidate_id)
    else:
        api_key, body = API_DESCRIBE_QUORUM, describe_quorum_body()
    outcome = send(args.host, args.port, api_key, body, ca=args.ca, cert=args.cert, key=args.key)
    print(json.dumps(asdict(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
