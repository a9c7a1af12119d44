"""What each overlay is for, in its rendered objects: NodePort Services that expose one broker
each on the port it advertises (external-nodeport), TLS, SASL users and ACLs with a certificate
for every pod name (secure), controllers and brokers in two StatefulSets whose node ids never
collide (dedicated-controllers), and the dynamic quorum on a new enough image.

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

import re

from .support import (
    CLUSTER_DOMAIN,
    NAMESPACE,
    Obj,
    Rendered,
    certificate_for,
    container,
    covers,
    env_items,
    fqdn,
    is_controller_set,
    literal_env,
    mount_of,
    secret_keys,
    statefulset_of,
    template_labels,
)


def nodeport_services(out: Rendered) -> list[Obj]:
    return [s for s in out.all("Service") if s["spec"].get("type") == "NodePort"]


def test_nodeport_services_expose_one_pod_each_on_its_advertised_port(out: Rendered) -> None:
    """With EXTERNAL_PORT_BASE, Service N selects exactly pod <sts>-N (pod-name label), forwards
    to its external port, and its nodePort is BASE+N, the port that pod advertises; pods
    0..replicas-1 all have one; the ports are distinct and in the NodePort range."""
    brokers = [s for s in out.all("StatefulSet") if "EXTERNAL_PORT_BASE" in literal_env(s)]
    if "external" not in out.name:
        assert not brokers
        assert not nodeport_services(out)
        return
    (sts,) = brokers
    env = literal_env(sts)
    assert env["EXTERNAL_HOST"] == "$(HOST_IP)"
    host_ip = next(e for e in env_items(sts) if e["name"] == "HOST_IP")
    assert host_ip["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert "EXTERNAL_ADVERTISED_PORT" not in env, "it excludes EXTERNAL_PORT_BASE (SPEC)"
    base = int(env["EXTERNAL_PORT_BASE"])
    name = sts["metadata"]["name"]
    seen: dict[int, int] = {}
    for service in nodeport_services(out):
        selector = service["spec"]["selector"]
        pod = selector["statefulset.kubernetes.io/pod-name"]
        match = re.fullmatch(rf"{re.escape(name)}-(0|[1-9][0-9]*)", pod)
        assert match, pod
        ordinal = int(match.group(1))
        others = {k: v for k, v in selector.items() if k != "statefulset.kubernetes.io/pod-name"}
        assert statefulset_of(out, others) == [name]
        (port,) = service["spec"]["ports"]
        assert port["targetPort"] == "external"
        assert port["nodePort"] == base + ordinal
        assert 30000 <= port["nodePort"] <= 32767
        assert port["nodePort"] not in seen
        seen[port["nodePort"]] = ordinal
        assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert sorted(seen.values()) == list(range(sts["spec"]["replicas"]))


def test_secure_pods_get_what_the_entrypoint_needs(out: Rendered) -> None:
    """Secure overlays: TLS_DIR is the read-only mount of a cert-manager Secret with a PKCS#8 key
    for server and client use; SASL_USERS_DIR is a mounted Secret holding the inter-broker user
    and every super user with a password; ACLs on. Every StatefulSet of the cluster has it."""
    sets = out.all("StatefulSet")
    if "secure" not in out.name:
        assert not any("TLS_DIR" in literal_env(s) or "SASL_USERS_DIR" in literal_env(s) for s in sets)
        assert not out.all("Certificate")
        return
    for sts in sets:
        env = literal_env(sts)
        assert env["AUTHORIZATION"] == "acl"
        tls = mount_of(sts, env["TLS_DIR"])
        assert tls, "TLS_DIR is not a volume mount"
        cert = certificate_for(out, tls[1]["secret"]["secretName"])
        assert cert["spec"]["privateKey"]["encoding"] == "PKCS8"
        assert {"server auth", "client auth"} <= set(cert["spec"]["usages"])
        users_mount = mount_of(sts, env["SASL_USERS_DIR"])
        assert users_mount, "SASL_USERS_DIR is not a volume mount"
        users = secret_keys(out.get("Secret", users_mount[1]["secret"]["secretName"]))
        wanted = {env["SASL_INTER_BROKER_USER"], *env["SUPER_USERS"].split(",")}
        for user in wanted:
            assert users.get(user), f"user {user} has no password in the users Secret"
        assert "TLS_CLIENT_AUTH" not in env or env["TLS_CLIENT_AUTH"] in ("required", "requested", "none")


def test_certificate_names_every_pod_and_the_client_service(out: Rendered) -> None:
    """The node certificate covers every pod FQDN of every StatefulSet (also after scaling), the
    client Service, and every fixed external host; and it is signed by a CA issuer chain that
    fills ca.crt (self-signed Issuer -> CA Certificate -> CA Issuer)."""
    if "secure" not in out.name:
        return
    cert = certificate_for(out, "kafka-tls")
    names = cert["spec"]["dnsNames"]
    for sts in out.all("StatefulSet"):
        for ordinal in range(sts["spec"]["replicas"] + 3):
            host = fqdn(f"{sts['metadata']['name']}-{ordinal}", sts["spec"]["serviceName"])
            assert covers(names, host), host
        external = literal_env(sts).get("EXTERNAL_HOST", "$(")
        if "$(" not in external:  # a fixed host name (with {ordinal}) must be in the certificate
            assert covers(names, external.replace("{ordinal}", "0")), external
    assert covers(names, f"kafka-client.{NAMESPACE}.svc.{CLUSTER_DOMAIN}")
    assert not covers(names, f"kafka-0.other.{NAMESPACE}.svc.{CLUSTER_DOMAIN}")  # covers() can say no
    issuer = out.get("Issuer", cert["spec"]["issuerRef"]["name"])
    ca_cert = certificate_for(out, issuer["spec"]["ca"]["secretName"])
    assert ca_cert["spec"]["isCA"] is True
    root = out.get("Issuer", ca_cert["spec"]["issuerRef"]["name"])
    assert "selfSigned" in root["spec"]


def test_dedicated_layout_separates_controllers_and_brokers(out: Rendered) -> None:
    """Dedicated overlays: kafka-controller runs controllers only (CONTROLLER_STATEFULSET is
    itself, replicas = CONTROLLER_REPLICAS); kafka runs brokers whose voters are its first
    CONTROLLER_REPLICAS pods; node ids never collide as either StatefulSet scales."""
    sets = {s["metadata"]["name"]: s for s in out.all("StatefulSet")}
    if "dedicated" not in out.name:
        assert set(sets) == {"kafka"}
        assert "CONTROLLER_STATEFULSET" not in literal_env(sets["kafka"])
        return
    assert set(sets) == {"kafka", "kafka-controller"}
    controllers, brokers = sets["kafka-controller"], sets["kafka"]
    c_env, b_env = literal_env(controllers), literal_env(brokers)
    assert is_controller_set(controllers)
    assert not is_controller_set(brokers)
    assert b_env["CONTROLLER_STATEFULSET"] == "kafka-controller"
    assert c_env["CONTROLLER_REPLICAS"] == str(controllers["spec"]["replicas"])
    assert b_env["CONTROLLER_REPLICAS"] == c_env["CONTROLLER_REPLICAS"]
    for env in (c_env, b_env):
        assert env.get("CONTROLLER_SERVICE", env["SERVICE"]) == controllers["spec"]["serviceName"]
        assert "REPLICAS" not in env, "REPLICAS means nothing here; CONTROLLER_REPLICAS is the quorum"
        assert env["QUORUM"] == c_env["QUORUM"]
    offset = int(b_env["BROKER_ID_OFFSET"])
    assert int(b_env["CONTROLLER_REPLICAS"]) < offset
    controller_ids = set(range(offset))  # every id a growing (dynamic) controller set can take
    broker_ids = {offset + n for n in range(brokers["spec"]["replicas"] + 50)}
    assert not controller_ids & broker_ids
    assert template_labels(controllers)["app.kubernetes.io/component"] == "controller"
    assert template_labels(brokers)["app.kubernetes.io/component"] == "broker"
    assert container(controllers)["image"] == container(brokers)["image"]


def test_dynamic_variant_sets_the_quorum_and_a_new_enough_image(rendered: dict[str, Rendered]) -> None:
    """dedicated-controllers-dynamic: QUORUM=dynamic on both StatefulSets, an image and version
    label of Kafka >= 3.9; the static overlays keep the default (static)."""
    for name, result in rendered.items():
        for sts in result.all("StatefulSet"):
            quorum = literal_env(sts)["QUORUM"]
            version = tuple(int(x) for x in template_labels(sts)["app.kubernetes.io/version"].split("."))
            if name == "dedicated-controllers-dynamic":
                assert quorum == "dynamic"
                assert version >= (3, 9)
                assert container(sts)["image"].endswith(f"kafka-{'.'.join(map(str, version))}")
            else:
                assert quorum == "static"
                assert version == (3, 3, 2)
