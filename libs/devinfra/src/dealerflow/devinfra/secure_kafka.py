"""A throw-away Kafka broker with SASL/SCRAM, TLS and ACLs, for the security tests.

Same jars and helpers as the profile brokers (:mod:`dealerflow.devinfra.kafka`), but a
separate single-node KRaft instance in a directory of its own, on free loopback ports,
with four listeners:

- ``PLAINTEXT``: the super user (``User:ANONYMOUS``), for creating topics and ACLs and
  for the broker's own traffic (inter-broker);
- ``SASL_PLAINTEXT``: SCRAM-SHA-512 (the users are created by ``kafka-storage format
  --add-scram`` before the first start);
- ``SASL_SSL``: SCRAM-SHA-512 over TLS (a self-signed CA from :mod:`dealerflow.devinfra.
  tls`; PEM key store and trust store);
- ``CONTROLLER``: the KRaft controller.

Authorization is KRaft's ``StandardAuthorizer`` with no ACL meaning no access, so a
principal can do exactly what :func:`add_acls` granted it. Start it with
:func:`running_secure_broker`; anything that keeps it from answering is an InfraError
(a test that needs it must fail, never skip).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest

from dealerflow.devinfra.config import InfraConfig, InfraError
from dealerflow.devinfra.kafka import (
    _LOG4J2_PROPERTIES,
    SINGLE_NODE_SETTINGS,
    broker_answers,
    broker_command,
    ensure_jars,
    new_cluster_id,
    require_java,
    storage_format_command,
)
from dealerflow.devinfra.proc import Progress, pid_alive, spawn_detached, stderr_progress, tail
from dealerflow.devinfra.proc import terminate as terminate_pid
from dealerflow.devinfra.tls import TlsFiles, write_tls_files
from dealerflow.runtime.kafka_acls import Acl

__all__ = ["SecureBroker", "add_acls", "running_secure_broker", "secure_server_properties"]

MECHANISM = "SCRAM-SHA-512"
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"

# Kafka's wire codes (org.apache.kafka.common.acl / resource).
_RESOURCE_TYPES = {"topic": 2, "group": 3}
_PATTERN_TYPES = {"literal": 3, "prefixed": 4}
_OPERATIONS = {"Read": 3, "Write": 4, "Create": 5, "Describe": 8, "DescribeConfigs": 10}
_ALLOW = 3


@dataclass(frozen=True)
class SecureBroker:
    """A running secure broker: where to connect and with which users."""

    directory: Path
    host: str
    plaintext_port: int
    sasl_port: int
    ssl_port: int
    tls: TlsFiles
    #: SCRAM-SHA-512 user name -> password
    users: Mapping[str, str] = field(repr=False)
    pid: int = 0

    @property
    def plaintext_bootstrap(self) -> str:
        """The super user's listener (no authentication)."""
        return f"{self.host}:{self.plaintext_port}"

    @property
    def sasl_bootstrap(self) -> str:
        """SASL_PLAINTEXT, SCRAM-SHA-512."""
        return f"{self.host}:{self.sasl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        """SASL_SSL, SCRAM-SHA-512 (the certificate is for 127.0.0.1 and localhost)."""
        return f"{self.host}:{self.ssl_port}"


def _free_ports(host: str, count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def secure_server_properties(
    directory: Path, host: str, ports: Mapping[str, int], tls: TlsFiles
) -> str:
    """server.properties of the secure broker (``ports`` by listener name)."""
    listeners = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{ports['CONTROLLER']}",
        "listeners": ",".join(f"{n}://{host}:{ports[n]}" for n in (*listeners, "CONTROLLER")),
        "advertised.listeners": ",".join(f"{n}://{host}:{ports[n]}" for n in listeners),
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": (
            "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,"
            "CONTROLLER:PLAINTEXT"
        ),
        "inter.broker.listener.name": "PLAINTEXT",
        "sasl.enabled.mechanisms": MECHANISM,
        f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config": _SCRAM_LOGIN,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": _SCRAM_LOGIN,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(tls.server_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tls.ca),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # the PLAINTEXT and CONTROLLER listeners (loopback, this test broker only)
        "super.users": "User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(directory / "data"),
        "num.partitions": "1",
        "offsets.topic.num.partitions": "3",
        **SINGLE_NODE_SETTINGS,
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _format(java: str, libs: Path, directory: Path, users: Mapping[str, str]) -> None:
    scram = [
        arg
        for name, password in users.items()
        for arg in ("--add-scram", f"{MECHANISM}=[name={name},password={password}]")
    ]
    result = subprocess.run(
        storage_format_command(java, libs, directory, new_cluster_id(), *scram),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise InfraError(f"formatting the secure broker failed:\n{result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def running_secure_broker(
    cfg: InfraConfig,
    directory: Path,
    user_names: Iterable[str],
    *,
    heap: str = "384m",
    timeout_s: float = 120.0,
    progress: Progress = stderr_progress,
) -> Iterator[SecureBroker]:
    """Start a secure broker in ``directory`` (fresh) with a SCRAM user per name (random
    passwords, in ``SecureBroker.users``); stop it on exit. Uses ``cfg``'s jar cache."""
    java = require_java()
    libs = ensure_jars(cfg, progress)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    tls = write_tls_files(directory / "tls")
    host = cfg.host
    names = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "CONTROLLER")
    ports = dict(zip(names, _free_ports(host, len(names)), strict=True))
    users = {name: f"{name}-{secrets.token_hex(8)}" for name in user_names}
    (directory / "server.properties").write_text(
        secure_server_properties(directory, host, ports, tls)
    )
    (directory / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)
    _format(java, libs, directory, users)
    log = directory / "kafka.log"
    cmd = broker_command(java, libs, directory, heap=heap, min_heap="128m")
    pid = spawn_detached(cmd, log_file=log, cwd=directory)
    progress(f"starting a SCRAM/TLS Kafka broker in {directory} (pid {pid})")
    broker = SecureBroker(
        directory, host, ports["PLAINTEXT"], ports["SASL_PLAINTEXT"], ports["SASL_SSL"], tls,
        users, pid,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_s
        while not broker_answers(broker.plaintext_bootstrap, timeout_s=2.0):
            if not pid_alive(pid):
                raise InfraError(f"the secure Kafka broker exited; log {log}:\n{tail(log)}")
            if time.monotonic() > deadline:
                raise InfraError(
                    f"the secure Kafka broker did not answer within {timeout_s:.0f}s; "
                    f"log {log}:\n{tail(log)}"
                )
            time.sleep(0.3)
        yield broker
    finally:
        terminate_pid(pid, timeout=30, progress=progress, name="secure Kafka")


async def add_acls(plaintext_bootstrap: str, acls: Iterable[Acl]) -> int:
    """Grant ``acls`` (ALLOW, any host) through the super user's listener; return how
    many. The same rules ``deploy/kafka/acls.sh`` adds with ``kafka-acls.sh``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=plaintext_bootstrap)
    await admin.start()
    count = 0
    try:
        for acl in acls:
            request = CreateAclsRequest(
                _RESOURCE_TYPES[acl.resource_type],
                acl.resource,
                _PATTERN_TYPES[acl.pattern_type],
                f"User:{acl.principal}",
                "*",
                _OPERATIONS[acl.operation],
                _ALLOW,
            )
            # aiokafka has the protocol message but no public create_acls
            response = await admin._send_request(request)
            for error_code, message in response.creation_responses:
                if error_code:
                    raise InfraError(f"creating {acl} failed: error {error_code} {message}")
            count += 1
    finally:
        await admin.close()
    return count
