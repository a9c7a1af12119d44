"""``python -m kraft_entrypoint.node_zone FILE``: the init container of k8s/components/rack.

Reads this pod's node (``NODE_NAME``, from the downward API's ``spec.nodeName``) from the
Kubernetes API with the pod's service account (which needs ``get`` on ``nodes``) and writes the
node's ``topology.kubernetes.io/zone`` label to FILE, which the Kafka container reads as
RACK_FILE. Exit 0 when written; 2 when the node has no zone label or the inputs are wrong; 1
when the API cannot be asked (the kubelet restarts the init container with a back-off, so a
node labelled later, or an API server back again, lets the pod start then).

An effect module of its own (the HTTP client is imported only here); nothing of it runs at a
normal start.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Optional

from kraft_entrypoint import files, rack
from kraft_entrypoint.errors import InvalidInput

ZONE_LABEL = "topology.kubernetes.io/zone"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
TIMEOUT = 10.0


class Failed(Exception):
    """What went wrong, and the exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def zone_of(node: Mapping[str, object], node_name: str) -> str:
    """The zone label of a Node object (parsed JSON), checked as a rack. Pure."""
    metadata = node.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    zone = labels.get(ZONE_LABEL) if isinstance(labels, dict) else None
    if not isinstance(zone, str) or not zone:
        raise Failed(
            f"node {node_name} has no label {ZONE_LABEL}; label it "
            f"(kubectl label node {node_name} {ZONE_LABEL}={rack.EXAMPLE}) or set RACK instead",
            2,
        )
    try:
        return rack.check("RACK_FILE", zone)
    except InvalidInput as invalid:
        raise Failed(f"the label {ZONE_LABEL} of node {node_name}: {invalid}", 2) from None


def node_url(environment: Mapping[str, str], node_name: str) -> str:
    """The API URL of the node, from the variables the kubelet gives every container. Pure."""
    host = environment.get("KUBERNETES_SERVICE_HOST", "").strip()
    port = environment.get("KUBERNETES_SERVICE_PORT", "443").strip() or "443"
    if not host:
        raise Failed("KUBERNETES_SERVICE_HOST is not set: this runs in a Kubernetes pod only", 2)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"https://{host}:{port}/api/v1/nodes/{urllib.parse.quote(node_name, safe='')}"


def read_node(url: str, account: str = ACCOUNT, timeout: float = TIMEOUT) -> Mapping[str, object]:
    """GET the node with the service account's token, verified against its CA."""
    try:
        with open(os.path.join(account, "token"), encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as error:
        raise Failed(
            f"no service account token in {account} ({error.strerror}): the pod needs a "
            "service account with get on nodes and automountServiceAccountToken", 2
        ) from None
    context = ssl.create_default_context(cafile=os.path.join(account, "ca.crt"))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        # an https URL that node_url built, never a user-given scheme
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            body = response.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as error:
        hint = " (the service account needs a ClusterRole with get on nodes)" if error.code == 403 else ""
        raise Failed(f"GET {url}: HTTP {error.code} {error.reason}{hint}", 1) from None
    except (urllib.error.URLError, OSError) as error:
        raise Failed(f"GET {url}: {getattr(error, 'reason', error)}", 1) from None
    try:
        node = json.loads(body)
    except ValueError:
        raise Failed(f"GET {url}: the answer is not JSON", 1) from None
    if not isinstance(node, dict):
        raise Failed(f"GET {url}: the answer is not a Node object", 1)
    return node


def main(
    argv: Optional[list[str]] = None, environment: Optional[Mapping[str, str]] = None, account: str = ACCOUNT
) -> int:
    args = sys.argv[1:] if argv is None else argv
    env = os.environ if environment is None else environment
    try:
        if len(args) != 1 or not args[0].startswith("/"):
            raise Failed("usage: python -m kraft_entrypoint.node_zone /absolute/path/of/the/rack/file", 2)
        node_name = env.get("NODE_NAME", "").strip()
        if not node_name:
            raise Failed("NODE_NAME is not set; set it from the downward API: fieldRef spec.nodeName", 2)
        zone = zone_of(read_node(node_url(env, node_name), account), node_name)
        files.write_atomic(args[0], f"{zone}\n".encode(), mode=0o644)
    except Failed as failed:
        print(f"kraft-entrypoint node_zone: {failed}", file=sys.stderr, flush=True)
        return failed.exit_code
    except OSError as error:
        print(f"kraft-entrypoint node_zone: cannot write {args[0]}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"kraft-entrypoint node_zone: node {node_name} is in zone {zone}; wrote {args[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
