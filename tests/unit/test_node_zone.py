"""``python -m kraft_entrypoint.node_zone FILE`` (the rack component's init container) against a
real HTTPS server standing in for the API server (a certificate of kraftlab/pki's openssl CA, a
bearer token checked): the node's zone label is written to FILE; a node without it, a refused
token and a missing NODE_NAME exit with the code the docstring gives, saying what to do."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kraft_entrypoint import node_zone
from kraftlab import pki

TOKEN = "token-of-the-kafka-rack-service-account"  # noqa: S105 (a test token)


@dataclass
class ApiServer:
    port: int
    account: Path
    nodes: dict[str, dict[str, object]]
    paths: list[str]

    def env(self, node: str) -> dict[str, str]:
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(self.port),
                "NODE_NAME": node}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    """GET /api/v1/nodes/<name> over TLS; 403 without the right bearer token."""
    ca = pki.new_ca(tmp_path / "pki")
    issued = ca.issue("apiserver", dns_names=["kubernetes.default.svc"], ip_addresses=["127.0.0.1"])
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN + "\n")
    (account / "ca.crt").write_bytes(ca.cert.read_bytes())
    nodes: dict[str, dict[str, object]] = {}
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            name = self.path.rsplit("/", 1)[-1]
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(403)
                body = b'{"kind":"Status","reason":"Forbidden"}'
            elif name in nodes:
                self.send_response(200)
                body = json.dumps(nodes[name]).encode()
            else:
                self.send_response(404)
                body = b'{"kind":"Status","reason":"NotFound"}'
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(issued.chain), str(issued.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ApiServer(server.server_address[1], account, nodes, paths)
    finally:
        server.shutdown()
        server.server_close()


def _node(labels: dict[str, str]) -> dict[str, object]:
    return {"kind": "Node", "metadata": {"name": "n", "labels": labels}}


def test_writes_the_zone_of_the_node(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0; FILE holds the zone and a newline (RACK_FILE drops it); one line says so."""
    api.nodes["worker-1"] = _node({"topology.kubernetes.io/zone": "eu-west-1b", "kubernetes.io/os": "linux"})
    out = tmp_path / "rack" / "zone"
    out.parent.mkdir()
    assert node_zone.main([str(out)], api.env("worker-1"), str(api.account)) == 0
    assert out.read_text() == "eu-west-1b\n"
    assert api.paths == ["/api/v1/nodes/worker-1"]
    assert "node worker-1 is in zone eu-west-1b" in capsys.readouterr().err


def test_a_node_without_zone_exits_2_saying_how_to_label_it(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No file is written; the message is the kubectl label command."""
    api.nodes["worker-1"] = _node({"kubernetes.io/os": "linux"})
    out = tmp_path / "zone"
    assert node_zone.main([str(out)], api.env("worker-1"), str(api.account)) == 2
    assert not out.exists()
    assert "kubectl label node worker-1 topology.kubernetes.io/zone=eu-west-1a" in capsys.readouterr().err


def test_a_refused_token_exits_1_naming_the_role(
    api: ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """403: exit 1 (the kubelet retries the init container), naming get on nodes."""
    api.nodes["worker-1"] = _node({"topology.kubernetes.io/zone": "a"})
    (api.account / "token").write_text("another-token")
    assert node_zone.main([str(tmp_path / "zone")], api.env("worker-1"), str(api.account)) == 1
    assert "HTTP 403" in (err := capsys.readouterr().err)
    assert "get on nodes" in err


def test_an_api_not_trusted_by_the_ca_exits_1(api: ApiServer, tmp_path: Path) -> None:
    """Another CA in ca.crt: the TLS check fails, nothing is written."""
    other = pki.new_ca(tmp_path / "other", name="other-ca")
    (api.account / "ca.crt").write_bytes(other.cert.read_bytes())
    api.nodes["worker-1"] = _node({"topology.kubernetes.io/zone": "a"})
    assert node_zone.main([str(tmp_path / "zone")], api.env("worker-1"), str(api.account)) == 1
    assert not (tmp_path / "zone").exists()
    assert api.paths == []


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["/x/zone"], {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "NODE_NAME is not set"),
        (["/x/zone"], {"NODE_NAME": "n"}, "KUBERNETES_SERVICE_HOST is not set"),
        (["zone"], {"NODE_NAME": "n"}, "usage:"),
        ([], {"NODE_NAME": "n"}, "usage:"),
    ],
    ids=["no-node-name", "not-in-a-pod", "relative", "no-file"],
)
def test_wrong_inputs_exit_2(
    argv: list[str], env: dict[str, str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing is asked of any server; the message names what is missing."""
    assert node_zone.main(argv, env, "/nonexistent") == 2
    assert says in capsys.readouterr().err


def test_a_zone_that_is_not_a_rack_is_refused() -> None:
    """A label value the entrypoint would refuse as a rack is refused here, before Kafka's pod starts."""
    with pytest.raises(node_zone.Failed) as failed:
        node_zone.zone_of(_node({"topology.kubernetes.io/zone": "x" * 300}), "worker-1")
    assert failed.value.exit_code == 2
