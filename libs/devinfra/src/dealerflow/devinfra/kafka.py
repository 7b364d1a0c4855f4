"""Apache Kafka (KRaft, single node) run natively from the broker jars on Maven Central.

The jars are resolved once with ``mvn`` into ``<cache>/kafka-<version>/libs`` and reused;
storage is formatted once per state dir; the broker runs in the background with a pid
file and a log file under ``<state>/kafka/``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from dealerflow.devinfra.config import InfraConfig, InfraError
from dealerflow.devinfra.proc import (
    Progress,
    file_lock,
    pid_alive,
    pid_cmdline,
    port_open,
    read_pid,
    run_coroutine,
    run_logged,
    spawn_detached,
    stderr_progress,
    tail,
    terminate,
)
from dealerflow.devinfra.status import ComponentStatus
from dealerflow.devinfra.versions import (
    KAFKA_SCALA_BINARY,
    KAFKA_VERSION,
    LOG4J_VERSION,
    MAVEN_DEPENDENCY_PLUGIN_VERSION,
    SLF4J_VERSION,
)

_MAIN_CLASS = "kafka.Kafka"

_POM_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by dealerflow.devinfra.kafka: the Kafka broker's runtime classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.dealerflow</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version>
    </dependency>
  </dependencies>
</project>
"""

# Root at WARN keeps the log small; the two INFO loggers say when the server is up.
_LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
"""


def pom_xml() -> str:
    """The pom whose runtime dependencies are exactly the broker's classpath."""
    return _POM_TEMPLATE.format(
        kafka=KAFKA_VERSION, scala=KAFKA_SCALA_BINARY, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION
    )


def kafka_dir(cfg: InfraConfig) -> Path:
    """``<state>/kafka``: server.properties, data/, kafka.log, kafka.pid."""
    return cfg.state_dir / "kafka"


def jar_cache_dir(cfg: InfraConfig) -> Path:
    """``<cache>/kafka-<version>``, shared by every profile and checkout."""
    return cfg.cache_dir / f"kafka-{KAFKA_VERSION}"


def require_java() -> str:
    """Path of ``java`` or an InfraError saying what to install."""
    java = shutil.which("java")
    if not java:
        raise InfraError(
            "java not found: Kafka needs a JDK/JRE 17+. Install it, e.g. "
            "`apt-get install -y openjdk-17-jre-headless`."
        )
    return java


def ensure_jars(cfg: InfraConfig, progress: Progress = stderr_progress) -> Path:
    """Resolve the broker jars with Maven once; return the directory holding them."""
    cache = jar_cache_dir(cfg)
    libs = cache / "libs"
    pom = pom_xml()
    stamp = hashlib.sha256(pom.encode()).hexdigest()
    marker = cache / ".complete"
    if marker.is_file() and marker.read_text().strip() == stamp and any(libs.glob("*.jar")):
        return libs
    with file_lock(cfg.cache_dir / f"kafka-{KAFKA_VERSION}.lock"):
        if marker.is_file() and marker.read_text().strip() == stamp:
            return libs
        mvn = shutil.which("mvn")
        if not mvn:
            raise InfraError(
                "mvn not found: the Kafka broker jars are fetched from Maven Central with "
                "Maven. Install it, e.g. `apt-get install -y maven`."
            )
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "pom.xml").write_text(pom)
        staging = cache / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        progress(
            f"resolving Apache Kafka {KAFKA_VERSION} jars with Maven into {libs} "
            "(first run only, about 45 MB)"
        )
        goal = (
            "org.apache.maven.plugins:maven-dependency-plugin:"
            f"{MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy-dependencies"
        )
        run_logged(
            [
                mvn,
                "-B",
                "-f",
                str(cache / "pom.xml"),
                goal,
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            log_file=cache / "mvn.log",
            progress=progress,
            what="Maven (Kafka jars)",
            count_prefix="Downloaded from",
        )
        if not any(staging.glob("kafka_*.jar")):
            raise InfraError(f"Maven finished but no kafka jar is in {staging}; see {cache}")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text(stamp + "\n")
        progress(f"Kafka jars ready ({len(list(libs.glob('*.jar')))} jars)")
    return libs


#: What a one-node cluster needs (internal topics with one replica, no rebalance delay).
SINGLE_NODE_SETTINGS: Mapping[str, str] = {
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
}


def server_properties(cfg: InfraConfig) -> str:
    """A single-node KRaft broker+controller on loopback."""
    data = kafka_dir(cfg) / "data"
    extra = cfg.kafka_extra_listeners
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{cfg.host}:{cfg.kafka_controller_port}",
        "listeners": ",".join(
            [
                f"PLAINTEXT://{cfg.host}:{cfg.kafka_port}",
                f"CONTROLLER://{cfg.host}:{cfg.kafka_controller_port}",
                *(f"{x.name}://{cfg.host}:{x.port}" for x in extra),
            ]
        ),
        "advertised.listeners": ",".join(
            [
                f"PLAINTEXT://{cfg.host}:{cfg.kafka_port}",
                *(f"{x.name}://{x.advertised}" for x in extra),
            ]
        ),
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": ",".join(
            ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT", *(f"{x.name}:PLAINTEXT" for x in extra)]
        ),
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "3",
        **SINGLE_NODE_SETTINGS,
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding (as Uuid.toString)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):  # Kafka's own generator avoids these too
            return text


def storage_format_command(
    java: str, libs: Path, directory: Path, cluster_id: str, *extra: str
) -> list[str]:
    """``kafka-storage format`` of ``directory/server.properties`` (``extra``: e.g.
    ``--add-scram`` arguments)."""
    return [
        java,
        "-cp",
        f"{libs}/*",
        f"-Dlog4j2.configurationFile={directory / 'log4j2.properties'}",
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(directory / "server.properties"),
        *extra,
    ]


def broker_command(
    java: str, libs: Path, directory: Path, *, heap: str, min_heap: str = "256m"
) -> list[str]:
    """The java command line of a broker configured by ``directory/server.properties``."""
    return [
        java,
        f"-Xmx{heap}",
        f"-Xms{min_heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={directory / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={directory / 'logs'}",
        "-cp",
        f"{libs}/*",
        _MAIN_CLASS,
        str(directory / "server.properties"),
    ]


def _format_storage(cfg: InfraConfig, java: str, libs: Path, progress: Progress) -> None:
    directory = kafka_dir(cfg)
    if (directory / "data" / "meta.properties").is_file():
        return
    cluster_id = new_cluster_id()
    progress(f"formatting Kafka storage in {directory / 'data'} (cluster id {cluster_id})")
    result = subprocess.run(
        storage_format_command(java, libs, directory, cluster_id),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise InfraError(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")
    (directory / "cluster.id").write_text(cluster_id + "\n")


def _our_pid(cfg: InfraConfig) -> int | None:
    """The pid of this profile's broker when it is alive (and really is our broker)."""
    pid_file = kafka_dir(cfg) / "kafka.pid"
    pid = read_pid(pid_file)
    if pid is None:
        return None
    cmd = pid_cmdline(pid)
    props = str(kafka_dir(cfg) / "server.properties")
    if pid_alive(pid) and _MAIN_CLASS in cmd and props in cmd:
        return pid
    pid_file.unlink(missing_ok=True)  # stale: the process is gone or the pid was reused
    return None


async def _probe(bootstrap: str, timeout_s: float) -> bool:
    """True when a broker answers a metadata request and lists itself."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        await admin.close()


def broker_answers(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """True when a Kafka broker at ``bootstrap`` answers (metadata request)."""
    host, _, port = bootstrap.rpartition(":")
    if not port.isdigit() or not port_open(host or "127.0.0.1", int(port)):
        return False
    # aiokafka logs every failed attempt at ERROR; a probe is expected to fail sometimes.
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        return run_coroutine(lambda: _probe(bootstrap, timeout_s))
    finally:
        logger.setLevel(previous)


def status(cfg: InfraConfig) -> ComponentStatus:
    """Whether this profile's broker runs (ours), something else answers, or nothing."""
    log = kafka_dir(cfg) / "kafka.log"
    pid = _our_pid(cfg)
    if pid is not None:
        return ComponentStatus("kafka", "running", cfg.kafka_bootstrap, pid, log)
    if port_open(cfg.host, cfg.kafka_port):
        return ComponentStatus("kafka", "external", cfg.kafka_bootstrap, None, log)
    return ComponentStatus("kafka", "stopped", cfg.kafka_bootstrap, None, log)


def start(
    cfg: InfraConfig, *, timeout_s: float = 120.0, progress: Progress = stderr_progress
) -> ComponentStatus:
    """Start the broker unless it already runs; wait until it answers. Idempotent.

    A broker that someone else started on the port is reused when it answers.
    """
    directory = kafka_dir(cfg)
    with file_lock(cfg.state_dir / "kafka.lock"):
        current = status(cfg)
        if current.state == "running":
            _wait_ready(cfg, current.pid, timeout_s)
            return current
        if current.state == "external":
            if broker_answers(cfg.kafka_bootstrap):
                progress(f"a Kafka broker not started by us answers at {cfg.kafka_bootstrap}")
                return current
            raise InfraError(
                f"port {cfg.kafka_port} is in use by something that is not a Kafka broker; "
                "free it or choose another port (--kafka-port)"
            )
        if port_open(cfg.host, cfg.kafka_controller_port):
            raise InfraError(
                f"controller port {cfg.kafka_controller_port} is in use; free it or choose "
                "another (--kafka-controller-port)"
            )
        java = require_java()
        libs = ensure_jars(cfg, progress)
        (directory / "data").mkdir(parents=True, exist_ok=True)
        (directory / "server.properties").write_text(server_properties(cfg))
        (directory / "log4j2.properties").write_text(_LOG4J2_PROPERTIES)
        _format_storage(cfg, java, libs, progress)
        log = directory / "kafka.log"
        with log.open("a") as handle:
            handle.write(f"\n===== dealerflow-infra start {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        cmd = broker_command(java, libs, directory, heap=cfg.kafka_heap)
        pid = spawn_detached(cmd, log_file=log, cwd=directory)
        (directory / "kafka.pid").write_text(f"{pid}\n")
        progress(f"starting Kafka {KAFKA_VERSION} on {cfg.kafka_bootstrap} (pid {pid})")
        _wait_ready(cfg, pid, timeout_s)
        return ComponentStatus("kafka", "running", cfg.kafka_bootstrap, pid, log)


def _wait_ready(cfg: InfraConfig, pid: int | None, timeout_s: float) -> None:
    log = kafka_dir(cfg) / "kafka.log"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pid is not None and not pid_alive(pid):
            raise InfraError(f"Kafka exited during startup; log {log}:\n{tail(log)}")
        if broker_answers(cfg.kafka_bootstrap, timeout_s=2.0):
            return
        time.sleep(0.3)
    raise InfraError(
        f"Kafka did not answer at {cfg.kafka_bootstrap} within {timeout_s:.0f}s; "
        f"log {log}:\n{tail(log)}"
    )


def stop(
    cfg: InfraConfig, *, timeout_s: float = 30.0, progress: Progress = stderr_progress
) -> bool:
    """Stop this profile's broker (SIGTERM, then SIGKILL). True when one was running."""
    with file_lock(cfg.state_dir / "kafka.lock"):
        pid = _our_pid(cfg)
        if pid is None:
            return False
        progress(f"stopping Kafka (pid {pid})")
        terminate(pid, timeout=timeout_s, progress=progress, name="Kafka")
        (kafka_dir(cfg) / "kafka.pid").unlink(missing_ok=True)
        return True


def purge(cfg: InfraConfig) -> None:
    """Delete this profile's Kafka data (the broker must be stopped)."""
    if _our_pid(cfg) is not None:
        raise InfraError("Kafka is still running; stop it first")
    shutil.rmtree(kafka_dir(cfg), ignore_errors=True)
