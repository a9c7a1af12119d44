"""Property-based: any values of any inputs give exit 0 or 2, never a traceback."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jproperties
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraftlab import pki

from .support import OTHER_ID, VALID_ID, Cli

FLAGS = {
    "HOSTNAME": "--hostname",
    "REPLICAS": "--replicas",
    "CONTROLLER_REPLICAS": "--controller-replicas",
    "SERVICE": "--service",
    "NAMESPACE": "--namespace",
    "CLUSTER_DOMAIN": "--cluster-domain",
    "SHARE_DIR": "--share-dir",
    "DATA_DIR": "--data-dir",
    "CLUSTER_ID": "--cluster-id",
    "CLUSTER_ID_TIMEOUT": "--cluster-id-timeout",
    "BROKER_PORT": "--broker-port",
    "CONTROLLER_PORT": "--controller-port",
    "KAFKA_HOME": "--kafka-home",
    "KRAFT_TEMPLATE": "--template",
    "KRAFT_CONFIG": "--config",
    "TLS_DIR": "--tls-dir",
    "TLS_CLIENT_AUTH": "--tls-client-auth",
    "SASL_USERS_DIR": "--sasl-users-dir",
    "SASL_INTER_BROKER_USER": "--sasl-inter-broker-user",
    "SASL_MECHANISM": "--sasl-mechanism",
    "AUTHORIZATION": "--authorization",
    "SUPER_USERS": "--super-users",
    "EXTERNAL_HOST": "--external-host",
    "EXTERNAL_PORT": "--external-port",
    "EXTERNAL_ADVERTISED_PORT": "--external-advertised-port",
    "EXTERNAL_PORT_BASE": "--external-port-base",
    "QUORUM": "--quorum",
    "CONTROLLER_STATEFULSET": "--controller-statefulset",
    "CONTROLLER_SERVICE": "--controller-service",
    "BROKER_ID_OFFSET": "--broker-id-offset",
}


@dataclass(frozen=True)
class Sandbox:
    root: Path
    template: Path
    share: Path  # holds cluster_id = VALID_ID


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, template_path: Path) -> Sandbox:
    root = tmp_path_factory.mktemp("fuzz")
    template = root / "server.properties"
    template.write_bytes(template_path.read_bytes())
    share = root / "share"
    share.mkdir()
    (share / "cluster_id").write_text(VALID_ID + "\n")
    pki.write_tls_secret(root / "tls", pki.node_certificate(pki.new_ca(root / "ca")))
    pki.write_users_secret(root / "users", {"kafka": "pw-1", "admin": "pw-2"})
    return Sandbox(root, template, share)


def env_text() -> st.SearchStrategy[str]:
    """What a process environment can hold: bytes without NUL, decoded as Python decodes them."""
    return st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"").decode("utf-8", "surrogateescape"))


def arbitrary() -> st.SearchStrategy[str]:
    return st.one_of(
        env_text(),
        st.text(st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=40),
    )


PLAUSIBLE: dict[str, st.SearchStrategy[str]] = {
    "HOSTNAME": st.one_of(
        st.sampled_from(
            [
                "kafka-0",
                "kafka-1",
                "my-kafka-2",
                "kafka-10",
                "kafka-0.svc.ns",
                "kafka-2147483647",
                "kafka-2147483648",
                "a-0",
            ]
        ),
        st.from_regex(r"[a-z][a-z0-9-]{0,10}-(0|[1-9][0-9]{0,3})", fullmatch=True),
    ),
    "REPLICAS": st.one_of(st.integers(-2, 1200).map(str), st.sampled_from(["3", "03", " 3 ", "1e3"])),
    "CONTROLLER_REPLICAS": st.integers(-2, 1200).map(str),
    "SERVICE": st.sampled_from(["kafka-svc", "a+b", "Svc", "s" * 64, "1svc", "svc-"]),
    "NAMESPACE": st.sampled_from(["kafka-kraft", "a+b", "default", "n" * 63, "n" * 64, "-ns"]),
    "CLUSTER_DOMAIN": st.sampled_from(["cluster.local", "cluster.local.", "a.b.c", ".", "x" * 64, "a_b"]),
    "CLUSTER_ID": st.one_of(
        st.sampled_from(
            [
                VALID_ID,
                OTHER_ID,
                "AAAAAAAAAAAAAAAAAAAAAQ",
                "AAAAAAAAAAAAAAAAAAAAAA",
                VALID_ID[:21] + "h",
                "-" + VALID_ID[1:],
            ]
        ),
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=",
            min_size=20,
            max_size=24,
        ),
    ),
    "CLUSTER_ID_TIMEOUT": st.one_of(
        st.floats(allow_nan=True).map(str), st.sampled_from(["0", "1e400", "-0"])
    ),
    "BROKER_PORT": st.integers(-1, 70000).map(str),
    "CONTROLLER_PORT": st.integers(-1, 70000).map(str),
    "TLS_CLIENT_AUTH": st.sampled_from(["required", "requested", "none", "REQUIRED", "yes"]),
    "SASL_INTER_BROKER_USER": st.sampled_from(["kafka", "admin", "nobody", "a b", "..data"]),
    "SASL_MECHANISM": st.sampled_from(["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256", "scram-sha-512", "GSSAPI"]),
    "AUTHORIZATION": st.sampled_from(["acl", "off", "ACL", "on"]),
    "SUPER_USERS": st.sampled_from(["admin", "admin,ops", "a b", ",", "CN=x,O=y"]),
    "EXTERNAL_HOST": st.sampled_from(
        ["kafka-{ordinal}.example.com", "192.0.2.1", "2001:db8::1", "$(HOST_IP)", "{ordinal}", "a_b", "{x}"]
    ),
    "EXTERNAL_PORT": st.one_of(st.integers(-1, 70000).map(str), st.just("9{ordinal}")),
    "EXTERNAL_ADVERTISED_PORT": st.integers(-1, 70000).map(str),
    "EXTERNAL_PORT_BASE": st.one_of(st.integers(-1, 70000).map(str), st.just("3109{ordinal}")),
    "QUORUM": st.sampled_from(["static", "dynamic", "Dynamic", "raft"]),
    "CONTROLLER_STATEFULSET": st.sampled_from(["kafka", "kafka-controller", "Ctl", "my-kafka"]),
    "CONTROLLER_SERVICE": st.sampled_from(["kafka-svc", "ctl-svc", "1svc"]),
    "BROKER_ID_OFFSET": st.one_of(st.integers(-1, 3000).map(str), st.just("1e3")),
}
PATHS = ("SHARE_DIR", "DATA_DIR", "KAFKA_HOME", "KRAFT_TEMPLATE", "KRAFT_CONFIG", "TLS_DIR", "SASL_USERS_DIR")
OVERRIDE_NAME = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcz0189_.-é", max_size=20).map(
    lambda suffix: "KAFKA_CFG_" + suffix
)
OVERRIDE_KEYS = st.sampled_from(
    [
        "KAFKA_CFG_NODE_ID",
        "KAFKA_CFG_LOG_DIRS",
        "KAFKA_CFG_METADATA_LOG_DIR",
        "KAFKA_CFG_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_CFG_PROCESS_ROLES",
        "KAFKA_CFG_SSL_KEY_PASSWORD",
        "KAFKA_CFG_LOG_RETENTION_HOURS",
    ]
)


@st.composite
def inputs(draw: st.DrawFn, sandbox: Sandbox) -> tuple[list[str], dict[str, str]]:
    """Each variable absent, valid or arbitrary, given as variable, as flag, or both."""
    valid = {
        "HOSTNAME": "kafka-0",
        "REPLICAS": "3",
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": str(sandbox.share),
        "KRAFT_TEMPLATE": str(sandbox.template),
        "KRAFT_CONFIG": str(sandbox.root / "out" / "server.properties"),
        "KAFKA_HOME": str(sandbox.root / "kafka"),
        "DATA_DIR": str(sandbox.root / "data"),
    }
    args, env = ["--dry-run"], {}
    # Half the examples keep nearly every input valid, so the accepting path is explored too.
    calm = draw(st.booleans())
    if calm:
        kinds = ["valid"] * 14 + ["plausible", "arbitrary"]
    else:
        kinds = ["absent", "valid", "valid", "plausible", "arbitrary"]
    for variable, flag in FLAGS.items():
        kind = draw(st.sampled_from(kinds))
        if kind == "absent":
            continue
        if kind == "valid" and variable in valid:
            value = valid[variable]
        elif kind == "valid" and calm:
            continue  # left to its default
        elif kind in ("plausible", "valid") and variable in PLAUSIBLE:
            value = draw(PLAUSIBLE[variable])
        elif variable in PATHS and draw(st.booleans()):
            value = str(
                sandbox.root
                / draw(
                    st.sampled_from(["share", "server.properties", "x", "", "out/../share", "tls", "users"])
                )
            )
        else:
            value = draw(arbitrary())
            if value.startswith("/"):  # keep absolute paths inside the sandbox
                value = str(sandbox.root) + value
        where = draw(st.sampled_from(["env", "flag", "both"]))
        if where in ("env", "both"):
            env[variable] = value if where == "env" else draw(env_text())
        if where in ("flag", "both"):
            args.append(f"{flag}={value}")
    for name in draw(st.lists(st.one_of(OVERRIDE_NAME, OVERRIDE_KEYS), max_size=3)):
        env[name] = draw(st.one_of(arbitrary(), st.sampled_from(["0", "/abs", "rel", "0@h:1", "broker"])))
    return args, env


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter[str]]:
    """Counts outcomes over all examples; printed as the bench's R1 figure lines."""
    counts: Counter[str] = Counter()
    yield counts
    print(f"\nR1 examples: {counts['examples']}")
    print(f"R1 accepted (exit 0): {counts['exit 0']}")
    print(f"R1 rejected naming a variable (exit 2): {counts['exit 2']}")
    print(f"R1 tracebacks or other exits: {counts['examples'] - counts['exit 0'] - counts['exit 2']}")


@given(data=st.data())
def test_any_input_exits_0_or_2_and_names_a_variable(
    data: st.DataObject, cli: Cli, sandbox: Sandbox, tally: Counter[str]
) -> None:
    """Exit 0 with a parseable config, or exit 2 with one error naming a variable; never an exception."""
    args, env = data.draw(inputs(sandbox))
    outcome = cli.run(args, env)
    tally["examples"] += 1
    assert outcome.exception is None, f"{outcome.exception!r}\n{outcome.log}"
    assert outcome.exit_code in (0, 2), outcome.log
    if outcome.exit_code == 0:
        loaded = jproperties.Properties()
        loaded.load(outcome.stdout, "iso-8859-1")
        assert re.fullmatch(r"0|[1-9][0-9]*", loaded["node.id"].data)
    else:
        assert outcome.stdout == b""
        names = [*FLAGS, *(name for name in env if name.startswith("KAFKA_CFG_"))]
        assert any(name in outcome.log for name in names), outcome.log
    tally[f"exit {outcome.exit_code}"] += 1


def test_dry_run_leaves_the_sandbox_alone(sandbox: Sandbox) -> None:
    """After all those runs, nothing was written: no config, no data directory, the id file unchanged."""
    assert not (sandbox.root / "out").exists()
    assert not (sandbox.root / "data").exists()
    assert sorted(p.name for p in sandbox.share.iterdir()) == ["cluster_id"]
    assert (sandbox.share / "cluster_id").read_text() == VALID_ID + "\n"
