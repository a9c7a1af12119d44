"""A lab whose pods run with TLS, SASL/PLAIN and ACLs, as k8s/components/secure starts them, and
the client identities that should and should not get in.

:class:`SecureLab` is a :class:`~kraftlab.Lab` whose pods get the secure component's variables
(``TLS_DIR``, ``SASL_USERS_DIR``, ``SASL_INTER_BROKER_USER=kafka``, ``AUTHORIZATION=acl``,
``SUPER_USERS=admin``) and whose probe client authenticates (``KraftProbe --client-config``).
When it opens, it makes what cert-manager and the secretGenerator would (with ``kraftlab/pki.py``,
real openssl certificates): a CA, the node certificate for ``*.<service>.<namespace>.svc.<domain>``
(plus the node addresses of the outside network, if any), and the two Secrets laid out as the
kubelet mounts them (``..data``, mode 0440). With ``external=True`` the pods also get an
:class:`~kraftlab.outside.Outside` network and advertise ``EXTERNAL://<node address>:<30092+N>``
(``EXTERNAL_HOST`` per pod, ``EXTERNAL_PORT_BASE``), as k8s/components/external-nodeport does.

``secure=False`` gives the same lab without any of it (plain pods, plain client): the bench
compares the two through the same code.

Every client run is appended to ``client-transcript.log`` in the work directory, so a test can
search everything the lab printed (:meth:`SecureLab.secret_hits`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from . import pki
from .outside import Outside
from .pods import Lab
from .util import LabError, run
from .versions import REPO

INTER_BROKER_USER = "kafka"
ADMIN = "admin"
#: Appended to the random password of each ``tricky_users`` user: what the JAAS string (quotes,
#: backslashes, ';') and the properties file (':', '=', '#', '!', '\\') treat specially.
SPECIAL_CHARACTERS = ' "quoted" \\back\\slash; a=b: #!${x} \'q\''
#: Client settings of the identities that must be refused: fail in seconds, not minutes.
FAST_FAILURE = {
    "request.timeout.ms": "5000",
    "default.api.timeout.ms": "8000",
    "max.block.ms": "8000",
    "delivery.timeout.ms": "15000",
}


@dataclass(frozen=True)
class Certificate:
    """Files a TLS client presents and trusts (for :mod:`kraftlab.wire`)."""

    ca: Optional[Path]  # what it trusts; None: no TLS at all
    cert: Optional[Path] = None  # its chain
    key: Optional[Path] = None
    principal: str = ""


class SecureLab(Lab):
    """A :class:`~kraftlab.Lab` with TLS + SASL/PLAIN + ACLs (``secure=True``) and optionally
    an outside network with NodePort-like external access (``external=True``)."""

    def __init__(
        self,
        kafka_home: Path,
        probe_dir: Path,
        *,
        users: Sequence[str] = ("alice", "bob"),
        tricky_users: Sequence[str] = (),
        secure: bool = True,
        external: bool = False,
        sasl_mechanism: str = "PLAIN",
        **kwargs: Any,
    ) -> None:
        super().__init__(kafka_home, probe_dir, **kwargs)
        self.secure = secure
        #: SASL_MECHANISM of the pods and of every client configuration; with SCRAM the
        #: ``plain-attempt`` identity tries PLAIN with the admin's right password.
        self.sasl_mechanism = sasl_mechanism
        self.external = external
        self.users = tuple(users) + tuple(tricky_users)
        self.tricky_users = tuple(tricky_users)
        self._random_parts: dict[str, str] = {}
        self.secrets_dir = self.workdir / "secrets"
        self.transcript = self.workdir / "client-transcript.log"
        self.passwords: dict[str, str] = {}
        self.configs: dict[str, Path] = {}
        self.certificates: dict[str, Certificate] = {}
        self.key_files: list[Path] = []
        self.outside: Optional[Outside] = None
        #: the identity the lab's own client calls (status, topics, ...) use
        self.identity: Optional[str] = None

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> SecureLab:
        super().open()
        if self.external:
            self.outside = Outside(self.net).create()
        if self.secure:
            self._make_secrets()
            self.identity = ADMIN
        return self

    def close(self, *, keep_workdir: bool = False) -> list[str]:
        self.stop_all(timeout=30)
        problems = self.outside.destroy() if self.outside is not None else []
        return problems + super().close(keep_workdir=keep_workdir)

    def _make_secrets(self) -> None:
        """What cert-manager and the secretGenerator would make: CA, node certificate, Secrets,
        and the client configurations of every identity the tests use."""
        t = self.topology
        directory = self.secrets_dir
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        ca = pki.new_ca(directory / "pki")
        extra_ips = [self.outside.node_address(i) for i in range(self.net.pods)] if self.outside else []
        node = pki.node_certificate(
            ca, service=t.service, namespace=t.namespace, cluster_domain=t.domain, extra_ips=extra_ips
        )
        pki.write_tls_secret(directory / "tls", node, mode=0o440)
        self.passwords = {user: pki.new_password() for user in (INTER_BROKER_USER, ADMIN, *self.users)}
        for user in self.tricky_users:
            self._random_parts[user] = self.passwords[user]
            self.passwords[user] += SPECIAL_CHARACTERS
        pki.write_users_secret(directory / "users", self.passwords, mode=0o440)

        intruder = ca.client_certificate("intruder")  # same CA, another subject
        stranger_ca = pki.new_ca(directory / "stranger-pki", "stranger-ca")
        stranger = stranger_ca.client_certificate("stranger")
        self.key_files = [ca.key, node.key, intruder.key, stranger_ca.key, stranger.key]
        self.certificates = {
            "node": Certificate(ca.cert, node.chain, node.key, node.principal),
            "intruder": Certificate(ca.cert, intruder.chain, intruder.key, intruder.principal),
            "stranger": Certificate(ca.cert, stranger.chain, stranger.key, stranger.principal),
            "no-certificate": Certificate(ca.cert),
            "plaintext": Certificate(None),
        }

        clients = directory / "clients"
        clients.mkdir(mode=0o700)
        for user in (ADMIN, *self.users):
            self.configs[user] = pki.client_properties(
                clients / f"{user}.properties",
                truststore=ca.cert,
                sasl_user=user,
                sasl_password=self.passwords[user],
                sasl_mechanism=self.sasl_mechanism,
            )
        if self.sasl_mechanism != "PLAIN":
            self.configs["plain-attempt"] = pki.client_properties(
                clients / "plain-attempt.properties",
                truststore=ca.cert,
                sasl_user=ADMIN,
                sasl_password=self.passwords[ADMIN],
            )
            with self.configs["plain-attempt"].open("a") as out:
                out.writelines(f"{key}={value}\n" for key, value in FAST_FAILURE.items())
        self.passwords["wrong-password"] = pki.new_password()  # a client's, never the cluster's
        self.passwords["unknown-user"] = pki.new_password()
        refused: dict[str, tuple[Optional[Path], Optional[str], Optional[str]]] = {
            "plaintext": (None, None, None),
            "untrusting": (stranger_ca.cert, ADMIN, self.passwords[ADMIN]),
            "wrong-password": (ca.cert, self.users[0], self.passwords["wrong-password"]),
            "unknown-user": (ca.cert, "mallory", self.passwords["unknown-user"]),
        }
        for name, (truststore, sasl_user, password) in refused.items():
            path = pki.client_properties(
                clients / f"{name}.properties",
                truststore=truststore,
                sasl_user=sasl_user,
                sasl_password=password,
                sasl_mechanism=self.sasl_mechanism,
            )
            with path.open("a") as out:
                out.writelines(f"{key}={value}\n" for key, value in FAST_FAILURE.items())
            self.configs[name] = path

    def add_user(self, user: str) -> None:
        """Add ``user`` to the users Secret as the kubelet updates a mounted one (a new ``..data``),
        with a client configuration of its own; the pods see it at their next start."""
        self.passwords[user] = pki.new_password()
        users = {name: self.passwords[name] for name in (INTER_BROKER_USER, ADMIN, *self.users, user)}
        pki.write_users_secret(self.secrets_dir / "users", users, mode=0o440)
        self.users += (user,)
        tls = self.secrets_dir / "tls" / "ca.crt"
        self.configs[user] = pki.client_properties(
            self.secrets_dir / "clients" / f"{user}.properties",
            truststore=tls,
            sasl_user=user,
            sasl_password=self.passwords[user],
            sasl_mechanism=self.sasl_mechanism,
        )

    # ------------------------------------------------------------------ pods
    def security_env(self, ordinal: int) -> dict[str, str]:
        """What the secure and external-nodeport components add to pod ``ordinal``'s environment."""
        env: dict[str, str] = {}
        if self.secure:
            env.update(
                TLS_DIR=str(self.secrets_dir / "tls"),
                SASL_USERS_DIR=str(self.secrets_dir / "users"),
                SASL_INTER_BROKER_USER=INTER_BROKER_USER,
                AUTHORIZATION="acl",
                SUPER_USERS=ADMIN,
            )
            if self.sasl_mechanism != "PLAIN":
                env["SASL_MECHANISM"] = self.sasl_mechanism
        if self.outside is not None:
            env.update(
                EXTERNAL_HOST=self.outside.node_address(ordinal),  # $(HOST_IP) of its node
                EXTERNAL_PORT=str(self.outside.container_port),
                EXTERNAL_PORT_BASE=str(self.outside.port_base),
            )
        return env

    def pod_env(self, ordinal: int, replicas: int = 3, **overrides: Optional[str]) -> dict[str, str]:
        merged: dict[str, Optional[str]] = {**self.security_env(ordinal), **overrides}
        return super().pod_env(ordinal, replicas, **merged)

    def dry_run(self, ordinal: int) -> subprocess.CompletedProcess[str]:
        """``kraft-entrypoint --dry-run`` with pod ``ordinal``'s environment (its own KRAFT_CONFIG
        place); its output is kept in the work directory as ``dry-run-<ordinal>.out``."""
        place = self.workdir / f"dry-run-{ordinal}"
        place.mkdir(exist_ok=True)
        env = self.pod_env(ordinal, KRAFT_CONFIG=str(place / "server.properties"))
        result = run([*self.entrypoint_argv(), "--dry-run"], env=env, check=False, timeout=60)
        (self.workdir / f"dry-run-{ordinal}.out").write_text(result.stdout + result.stderr)
        return result

    # ------------------------------------------------------------------ clients
    def probe_argv(self, *args: str, ns: Optional[str] = None, identity: Optional[str] = None) -> list[str]:
        """KraftProbe as ``identity`` (default: :attr:`identity`, the admin when secure)."""
        chosen = identity or self.identity
        options = ["--client-config", str(self.configs[chosen])] if chosen else []
        return super().probe_argv(*options, *args, ns=ns)

    @contextlib.contextmanager
    def acting_as(self, identity: Optional[str]) -> Iterator[None]:
        """The lab's own client calls (and producers started meanwhile) use ``identity``."""
        previous, self.identity = self.identity, identity
        try:
            yield
        finally:
            self.identity = previous

    def probe(self, *args: str, timeout: float = 60) -> list[str]:
        result = self.probe_as(self.identity, *args, timeout=timeout)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise LabError(f"KraftProbe {' '.join(args)} exited {result.returncode}\n{output}")
        return result.stdout.splitlines()

    def probe_as(
        self, identity: Optional[str], *args: str, ns: Optional[str] = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run KraftProbe as ``identity`` (None: no client configuration); never raises on its
        exit code. The output is appended to the transcript."""
        result = run(self.probe_argv(*args, ns=ns, identity=identity), check=False, timeout=timeout)
        with self.transcript.open("a") as out:
            out.write(f"$ [{identity} in {ns or self.net.client_ns}] KraftProbe {' '.join(args)}\n")
            out.write(f"exit {result.returncode}\n{result.stdout}{result.stderr}\n")
        return result

    def wire(
        self, request: str, certificate: str, host: str, port: int, *extra: str, ns: Optional[str] = None
    ) -> dict[str, object]:
        """A hand-written request (:mod:`kraftlab.wire`) to ``host:port`` as ``certificate`` (a
        name of :attr:`certificates`: ``node``, ``intruder`` (same CA, another subject),
        ``stranger`` (another CA), ``no-certificate``, ``plaintext``); returns its outcome."""
        import json

        cert = self.certificates[certificate]
        argv = [sys.executable, "-m", "kraftlab.wire", request, "--host", host, "--port", str(port)]
        if cert.ca is not None:
            argv += ["--ca", str(cert.ca)]
        if cert.cert is not None and cert.key is not None:
            argv += ["--cert", str(cert.cert), "--key", str(cert.key)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        result = run(self.net.exec_argv(ns or self.net.client_ns, [*argv, *extra]), env=env, timeout=60)
        with self.transcript.open("a") as out:
            out.write(f"$ [{certificate}] kraftlab.wire {request} {host}:{port}\n")
            out.write(f"{result.stdout}{result.stderr}\n")
        outcome = json.loads(result.stdout)
        assert isinstance(outcome, dict)
        return outcome

    # ------------------------------------------------------------------ secrets
    def secrets(self) -> dict[str, str]:
        """Every secret of the lab by a name for messages: each password, and each private key's
        base64 body (the whole body and every full 64-character line of it)."""
        found = {f"password of {user}": password for user, password in self.passwords.items()}
        for user, part in self._random_parts.items():  # found also where the rest is escaped
            found[f"random part of the password of {user}"] = part
        for key in self.key_files:
            lines = [line for line in key.read_text().splitlines() if line and not line.startswith("-----")]
            found[f"{key.name} body"] = "".join(lines)
            for number, line in enumerate(lines):
                if len(line) == 64:
                    found[f"{key.name} line {number + 1}"] = line
        return found

    def secret_hits(self, root: Optional[Path] = None) -> Iterator[tuple[Path, str]]:
        """(file, secret name) for every file under ``root`` (default: the work directory) that
        holds a secret: a log, an output, a generated file, any file."""
        secrets = {name: value.encode() for name, value in self.secrets().items()}
        for dirpath, _, filenames in os.walk(root or self.workdir):
            for filename in filenames:
                path = Path(dirpath) / filename
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
                for name, value in secrets.items():
                    if value in data:
                        yield path, name
