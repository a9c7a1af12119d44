"""The rules that tell a typo from an input: edit distance, near misses among variables, known
configuration names and their prefixes, the list picked for a version, versions beyond the matrix."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kraft_entrypoint import installation, typos
from kraft_entrypoint.fields import Override, parse_overrides
from kraft_entrypoint.kafka_versions import NEWEST_TESTED, KafkaVersion, config_names_release, untested
from kraft_entrypoint.options import name

ROOT = Path(__file__).resolve().parents[2]
OURS = typos.our_variables()
NAMES = frozenset({"log.retention.hours", "log.retention.ms", "sasl.jaas.config", "ssl.keystore.location"})


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("TLS_DIR", "TLS_DIR", 0),
        ("TLS_DIRS", "TLS_DIR", 1),  # insertion
        ("SASL_USER_DIR", "SASL_USERS_DIR", 1),  # deletion
        ("EXTERNAL_HOTS", "EXTERNAL_HOST", 1),  # two neighbours swapped: one edit
        ("BROKER_PORT", "BROKER_PART", 1),  # substitution
        ("QUORUM", "QOURUM", 1),
        ("", "abc", 3),
        ("log.retenton.hours", "log.retention.hours", 1),
        ("kitten", "sitting", 3),
    ],
)
def test_distance(a: str, b: str, edits: int) -> None:
    """Insertions, deletions, substitutions and swaps of neighbours count one edit each, both ways."""
    assert typos.distance(a, b) == edits
    assert typos.distance(b, a) == edits


def _reference_distance(a: str, b: str) -> int:
    """The textbook full-matrix optimal string alignment distance."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_banded_distance_agrees_with_the_full_matrix() -> None:
    """3000 random pairs over a small alphabet: the same distance, and with a limit the same below it."""
    rng = random.Random(22)  # noqa: S311 (test data, not a secret)
    for _ in range(3000):
        a, b = ("".join(rng.choice("AB_.") for _ in range(rng.randint(0, 8))) for _ in range(2))
        truth = _reference_distance(a, b)
        assert typos.distance(a, b) == truth, (a, b)
        for limit in range(4):
            assert typos.distance(a, b, limit) == min(truth, limit + 1), (a, b, limit)


def test_distance_stops_above_its_limit() -> None:
    """With a limit, a farther pair answers limit + 1 (never less than the truth, never a false near)."""
    assert typos.distance("KAFKA_HOME", "NAMESPACE", 2) == 3
    assert typos.distance("A", "ABCDEFG", 2) == 3
    assert typos.distance("TLS_DIRS", "TLS_DIR", 2) == 1


def test_short_names_allow_one_edit_long_names_two() -> None:
    """Under 8 characters one edit (QUORUM, STRICT, SERVICE, TLS_DIR), from 8 on two."""
    assert [typos.allowed_edits(n) for n in ("QUORUM", "TLS_DIR", "DATA_DIR", "EXTERNAL_HOST")] == [
        1,
        1,
        2,
        2,
    ]


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("TLS_DIRS", "TLS_DIR"),
        ("EXTERNAL_HOTS", "EXTERNAL_HOST"),
        ("SASL_USER_DIR", "SASL_USERS_DIR"),
        ("SHARED_DIR", "SHARE_DIR"),
        ("KAFKA_HEAP_OPT", "KAFKA_HEAP_OPTS"),
        ("QUORUMS", "QUORUM"),
        ("BROKR_PORT", "BROKER_PORT"),
        ("CONTROLER_REPLICAS", "CONTROLLER_REPLICAS"),
        ("STICT", "STRICT"),
    ],
)
def test_a_near_miss_names_the_variable_meant(variable: str, meant: str) -> None:
    """A variable a few edits from one of ours is reported with ours, as --help names it."""
    (finding,) = typos.unknown_variables({variable: "x"}, OURS)
    assert finding.variable == variable
    assert finding.message == (
        f"{variable} is not a variable kraft-entrypoint reads and is ignored; did you mean {name(meant)}?"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        *((ours, "x") for ours in OURS),
        # what Kafka's scripts, the JDK and every container read
        ("KAFKA_OPTS", "-Dx"),
        ("KAFKA_JVM_PERFORMANCE_OPTS", "-server"),
        ("KAFKA_LOG4J_OPTS", "-D"),
        ("KAFKA_JMX_OPTS", "-D"),
        ("JMX_PORT", "9999"),
        ("LOG_DIR", "/var/lib/kafka/logs"),
        ("KAFKA_GC_LOG_OPTS", " "),
        ("JAVA_HOME", "/opt/java"),
        ("HOME", "/"),
        ("PATH", "/bin"),
        ("LANG", "C.UTF-8"),
        ("HOSTNAME", "kafka-0"),
        ("TERM", "xterm"),
        # Kubernetes' service links, here for Services kafka-svc, kafka and metric
        ("KAFKA_SVC_PORT", "tcp://10.96.0.12:9092"),
        ("KAFKA_SVC_SERVICE_HOST", "10.96.0.12"),
        ("KAFKA_SVC_SERVICE_PORT", "9092"),
        ("KAFKA_SVC_SERVICE_PORT_BROKER", "9092"),
        ("KAFKA_PORT_9092_TCP", "tcp://10.96.0.12:9092"),
        ("KAFKA_PORT_9092_TCP_PROTO", "tcp"),
        ("KAFKA_PORT_9092_TCP_PORT", "9092"),
        ("KAFKA_PORT_9092_TCP_ADDR", "10.96.0.12"),
        ("KAFKA_SERVICE_HOST", "10.96.0.12"),
        ("KAFKA_PORT", "tcp://10.96.0.12:9092"),
        ("METRIC_PORT", "tcp://10.96.0.13:9404"),
        ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
        ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
        # overrides are checked against Kafka's names, not ours
        ("KAFKA_CFG_TLS_DIRS", "x"),
        # names near KAFKA_CFG_ that Kafka's scripts, other images or service links use
        ("KAFKA_HEAP_OPTS", "-Xmx1g"),
        ("KAFKA_DEBUG", "y"),
        ("KAFKA_MODE", "server"),
        ("KAFKA_CLUSTER_ID", "x"),
        ("KAFKA_LOG_RETENTION_HOURS", "1"),
        ("KAFKA_CFG", "x"),
        ("KAFKA_CFG_", "x"),
        ("KAFKA_CA_CERT", "x"),
        ("KAFKA_C_FOO", "x"),
        ("KAFKA_CF_PORT", "tcp://10.96.0.14:9092"),
        ("KAFKA_CGF_SVC_SERVICE_HOST", "10.96.0.15"),  # a Service kafka-cgf-svc
        # farther than the rule allows
        ("QUORUM_X", "x"),
        ("SERVICE_AB", "x"),
        ("MY_TLS_DIR_X", "x"),
    ],
)
def test_never_a_typo(variable: str, value: str) -> None:
    """Exact names (ours, Kafka's scripts', the JDK's, a container's) and service links never warn."""
    assert typos.unknown_variables({variable: value}, OURS) == ()


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("KAFKA_CGF_LOG_RETENTION_HOURS", "KAFKA_CFG_LOG_RETENTION_HOURS"),  # two letters swapped
        ("KAFKA_CFGLOG_RETENTION_HOURS", "KAFKA_CFG_LOG_RETENTION_HOURS"),  # the _ left out
        ("KAFKACFG_LOG_DIRS", "KAFKA_CFG_LOG_DIRS"),
        ("KAFKA_CG_LOG_DIRS", "KAFKA_CFG_LOG_DIRS"),
        ("KAFKA_CFF_NUM_PARTITIONS", "KAFKA_CFG_NUM_PARTITIONS"),
        ("KAFAK_CFG_NUM_PARTITIONS", "KAFKA_CFG_NUM_PARTITIONS"),
        ("KAFKA_CONF_LOG_RETENTION_HOURS", "KAFKA_CFG_LOG_RETENTION_HOURS"),  # other images' prefixes
        ("KAFKA_CONFIG_LOG_RETENTION_HOURS", "KAFKA_CFG_LOG_RETENTION_HOURS"),
    ],
)
def test_a_misspelt_override_prefix_names_the_override_meant(variable: str, meant: str) -> None:
    """A KAFKA_CFG_ within two edits (or another image's KAFKA_CONF_) is reported with the
    KAFKA_CFG_* variable it probably meant, as one finding."""
    (finding,) = typos.unknown_variables({variable: "x"}, OURS)
    assert finding.variable == variable
    assert finding.message == (
        f"{variable} is not a variable kraft-entrypoint reads and is ignored; did you mean {meant} "
        "(a Kafka property is set by KAFKA_CFG_ and its name)?"
    )


def test_a_port_variable_that_is_no_service_link_is_still_a_typo() -> None:
    """METRIC_PORT=9404 is no service link (those hold tcp://ip:port): a typo of METRICS_PORT."""
    (finding,) = typos.unknown_variables({"METRIC_PORT": "9404"}, OURS)
    assert "did you mean METRICS_PORT" in finding.message


def test_findings_are_sorted_one_per_variable() -> None:
    """Several typos: one finding each, in name order."""
    found = typos.unknown_variables({"TLS_DIRS": "a", "EXTERNAL_HOTS": "b", "HOME": "/"}, OURS)
    assert [f.variable for f in found] == ["EXTERNAL_HOTS", "TLS_DIRS"]


@pytest.mark.parametrize(
    ("key", "known"),
    [
        ("log.retention.hours", True),
        ("log.retenton.hours", False),
        ("listener.name.external.ssl.keystore.location", True),
        ("listener.name.client.plain.sasl.jaas.config", True),
        ("listener.name.client.scram-sha-512.sasl.jaas.config", True),
        ("listener.name.client.ssl.keystore.locaton", False),
        ("listener.name.sasl.jaas.config", False),  # no listener between the prefix and the name
        ("rsm.config.bucket", True),
        ("rlmm.config.remote.log.metadata.topic.replication.factor", True),
        ("foo.bar", False),
    ],
)
def test_known_keys_and_their_prefixes(key: str, known: bool) -> None:
    """A name of the list, or one under listener.name.<listener>.[<mechanism>.], or a plugin prefix."""
    assert typos.is_known_key(key, NAMES) is known


@pytest.mark.parametrize("key", ["log.retention.hours", "foo_bar", "foo-bar", "a.b_c-d", "listener.name.x.y"])
def test_override_variable_is_what_parses_back_to_the_key(key: str) -> None:
    """The variable a warning proposes sets exactly the key it names."""
    (override,) = parse_overrides({typos.override_variable(key): "1"})
    assert override.key == key


def test_unknown_override_names_the_nearest_known_configuration() -> None:
    """KAFKA_CFG_LOG_RETENTON_HOURS -> log.retention.hours, with its variable; known and written keys pass."""
    overrides = (
        Override("KAFKA_CFG_LOG_RETENTON_HOURS", "log.retenton.hours", "24"),
        Override("KAFKA_CFG_LOG_RETENTION_MS", "log.retention.ms", "1"),
        Override("KAFKA_CFG_SUPER_USERS", "super.users", "User:a"),
    )
    (finding,) = typos.unknown_overrides(overrides, NAMES, frozenset({"super.users"}), "3.3.2")
    assert finding.variable == "KAFKA_CFG_LOG_RETENTON_HOURS"
    assert finding.message == (
        "KAFKA_CFG_LOG_RETENTON_HOURS sets log.retenton.hours, which is not a broker or controller "
        "configuration of Kafka 3.3.2; did you mean log.retention.hours (KAFKA_CFG_LOG_RETENTION_HOURS)?"
    )


def _v(text: str) -> KafkaVersion:
    return KafkaVersion.parse(text)


LISTS = (_v("3.3.2"), _v("3.9.2"), _v("4.4.0"))


@pytest.mark.parametrize(
    ("version", "release"),
    [
        ("3.3.2", "3.3.2"),
        ("3.6.1", "3.3.2"),
        ("3.9.2", "3.9.2"),
        ("4.1.0", "3.9.2"),
        ("4.4.0", "4.4.0"),
        ("4.5.0", "4.4.0"),
        ("9.9.9", "4.4.0"),
        ("3.3.1", None),
    ],
)
def test_the_list_of_a_version_is_its_own_else_the_newest_below(version: str, release: str | None) -> None:
    """A listed release uses its list; another the newest list not above it; older than all: none."""
    picked = config_names_release(_v(version), LISTS)
    assert (str(picked) if picked else None) == release


def test_the_package_has_a_list_for_each_version_of_the_matrix() -> None:
    """config_names/ holds one list per release scripts/kafka-dist builds, each naming the basics."""
    matrix = [
        line.split()[0]
        for line in (ROOT / "scripts/kafka-dist.d/versions.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(p.stem for p in Path(installation.CONFIG_NAMES_DIR).glob("*.txt")) == sorted(matrix)
    for version in matrix:
        release, names = installation.config_names(_v(version))
        assert str(release) == version
        assert {
            "node.id",
            "process.roles",
            "log.retention.hours",
            "controller.quorum.voters",
            "super.users",
        } <= names


@pytest.mark.parametrize(
    ("version", "warned", "new_major"),
    [
        ("3.3.2", False, False),
        ("4.4.0", False, False),
        ("4.4.1", True, False),
        ("4.5.0", True, False),
        ("5.0.0", True, True),
        ("9.9.9", True, True),
    ],
)
def test_versions_beyond_the_matrix(version: str, warned: bool, new_major: bool) -> None:
    """Newer than the newest tested release: a reason; a major above 4: refused unless allowed."""
    beyond = untested(_v(version))
    assert (beyond is not None) is warned
    if beyond is not None:
        assert beyond.new_major is new_major
        assert str(NEWEST_TESTED) in beyond.reason


def test_newest_tested_is_the_newest_of_the_matrix() -> None:
    """The version fact follows scripts/kafka-dist.d/versions.txt, the releases the tests run."""
    matrix = [
        _v(line.split()[0])
        for line in (ROOT / "scripts/kafka-dist.d/versions.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert max(matrix) == NEWEST_TESTED


def test_the_lists_are_package_data() -> None:
    """pyproject ships config_names/*.txt in the wheel (pip install . has them; a start reads them)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert '"config_names/*.txt"' in section
