"""Runs a real Neo4j 5 Community server from Maven Central jars on Java 17, without Docker."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kgrec.graph import cypher
from kgrec.graph.errors import LauncherError, MissingToolError

log = logging.getLogger(__name__)

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"
# How often start and stop look at the server (a start takes seconds; each look costs little).
POLL_SECONDS = 0.1
JVM_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
)


@dataclass(frozen=True, slots=True)
class ServerStatus:
    running: bool
    pid: int | None
    version: str | None
    bolt_uri: str
    browser_url: str


def _pom_text() -> str:
    return resources.files("kgrec.graph").joinpath("neo4j_server/pom.xml").read_text(encoding="utf-8")


def java_major_version() -> int:
    java = shutil.which("java")
    if java is None:
        raise MissingToolError(
            "Java 17 or newer is needed to run Neo4j: install OpenJDK 17 "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise MissingToolError(f"cannot read the Java version from: {out.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class LocalNeo4j:
    """One server home (`conf/`, `data/`, `logs/`, `run/`) plus a shared jar cache."""

    def __init__(
        self,
        *,
        home: Path,
        lib_dir: Path,
        password: str,
        bolt_port: int = 7687,
        http_port: int = 7474,
        heap: str = "1g",
        pagecache: str = "512m",
        jvm_options: tuple[str, ...] = (),
    ) -> None:
        self.home = home.resolve()
        self.lib_dir = lib_dir.resolve()
        self.password = password
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.heap = heap
        self.pagecache = pagecache
        # Extra flags for this home's JVMs (server and neo4j-admin): the test suite passes some
        # that make its many short-lived starts cheaper (tests/conftest.py::TEST_JVM_OPTIONS).
        self.jvm_options = jvm_options

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/?dbms=bolt://127.0.0.1:{self.bolt_port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "kgrec-neo4j.pid"

    def _marker(self) -> Path:
        digest = hashlib.sha256(_pom_text().encode()).hexdigest()[:16]
        return self.lib_dir / f".resolved-{digest}"

    def resolve_jars(self) -> None:
        """Downloads the server jars once; later calls find the marker and return at once."""
        if self._marker().exists():
            return
        if java_major_version() < 17:
            raise MissingToolError("Neo4j 5 needs Java 17 or newer: install OpenJDK 17")
        mvn = shutil.which("mvn")
        if mvn is None:
            raise MissingToolError(
                "Maven is needed to fetch the Neo4j jars: install it (Debian/Ubuntu: apt-get install maven)"
            )
        self.lib_dir.mkdir(parents=True, exist_ok=True)
        pom = self.lib_dir / "pom.xml"
        pom.write_text(_pom_text(), encoding="utf-8")
        log.info("resolving Neo4j jars from Maven Central into %s", self.lib_dir)
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.lib_dir}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LauncherError(
                f"Maven could not resolve the Neo4j jars:\n{(result.stdout + result.stderr)[-2000:]}"
            )
        self._marker().write_text("ok\n", encoding="utf-8")

    def _write_config(self) -> None:
        for sub in ("conf", "data", "logs", "plugins", "run", "import"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        settings = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.listen_address": f"127.0.0.1:{self.bolt_port}",
            "server.bolt.advertised_address": f"127.0.0.1:{self.bolt_port}",
            "server.http.listen_address": f"127.0.0.1:{self.http_port}",
            "server.http.advertised_address": f"127.0.0.1:{self.http_port}",
            "server.https.enabled": "false",
            "server.directories.data": str(self.home / "data"),
            "server.directories.logs": str(self.home / "logs"),
            "server.directories.plugins": str(self.home / "plugins"),
            "server.directories.run": str(self.home / "run"),
            "server.directories.import": str(self.home / "import"),
            "server.memory.heap.initial_size": self.heap,
            "server.memory.heap.max_size": self.heap,
            "server.memory.pagecache.size": self.pagecache,
            "dbms.security.auth_enabled": "true",
            "dbms.usage_report.enabled": "false",
            # Bolt's event loops otherwise wait 5 s for a quiet spell, twice (external and local
            # connector), before a stop can finish: by then every connection is already closed.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        }
        text = "".join(f"{k}={v}\n" for k, v in settings.items())
        (self.home / "conf" / "neo4j.conf").write_text(text, encoding="utf-8")

    def _java_env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")}

    def admin(self, *args: str, heap: str | None = None) -> str:
        """Runs `neo4j-admin ARGS` on this home (its config); returns what it printed."""
        self._write_config()
        result = subprocess.run(
            [
                "java",
                *([f"-Xmx{heap}"] if heap else []),
                *self.jvm_options,
                "-cp",
                f"{self.lib_dir}/*",
                ADMIN_ENTRY_POINT,
                *args,
            ],
            capture_output=True,
            text=True,
            env=self._java_env(),
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-2000:]
            raise LauncherError(f"neo4j-admin {' '.join(args[:3])} failed:\n{output}")
        return result.stdout

    def _set_initial_password(self) -> None:
        if (self.home / "data" / "databases" / "system").exists():
            return
        self.admin("dbms", "set-initial-password", self.password)

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None
        return pid if ENTRY_POINT in cmdline and str(self.home) in cmdline else None

    def _http_info(self) -> dict[str, str] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/", timeout=2) as resp:
                info: dict[str, str] = json.loads(resp.read())
                return info
        except (OSError, ValueError):
            return None

    def _bolt_ready(self) -> bool:
        from neo4j import GraphDatabase
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        try:
            with (
                GraphDatabase.driver(self.bolt_uri, auth=("neo4j", self.password)) as driver,
                driver.session() as session,
            ):
                session.run(cypher.PING).consume()
            return True
        except (ServiceUnavailable, Neo4jError, OSError):
            return False

    def start(self, timeout: float = 180.0) -> bool:
        """Returns False when this home's server was already running."""
        if self.running_pid() is not None:
            return False
        for port in (self.bolt_port, self.http_port):
            if _port_in_use(port):
                raise LauncherError(
                    f"port {port} on 127.0.0.1 is already in use (another Neo4j?): "
                    "stop it or choose other ports (--bolt-port / --http-port)"
                )
        self.resolve_jars()
        self._write_config()
        self._set_initial_password()
        console = (self.home / "logs" / "console.log").open("ab")
        process = subprocess.Popen(
            [
                "java",
                f"-Xmx{self.heap}",
                *JVM_FLAGS,
                *self.jvm_options,
                "-cp",
                f"{self.lib_dir}/*",
                ENTRY_POINT,
                f"--home-dir={self.home}",
                f"--config-dir={self.home / 'conf'}",
                "--console-mode",
            ],
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._java_env(),
            start_new_session=True,
        )
        console.close()
        self.pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (self.home / "logs" / "console.log").read_text(errors="replace")[-3000:]
                self.pid_file.unlink(missing_ok=True)
                raise LauncherError(f"Neo4j exited during start-up (code {process.returncode}):\n{tail}")
            # A cheap look at the port first; Bolt's `RETURN 1` once something listens.
            if _port_in_use(self.bolt_port) and self._bolt_ready():
                log.info("Neo4j is up on %s (pid %d)", self.bolt_uri, process.pid)
                return True
            time.sleep(POLL_SECONDS)
        self.stop()
        raise LauncherError(f"Neo4j did not answer on {self.bolt_uri} within {timeout:.0f}s")

    def stop(self, timeout: float = 60.0) -> bool:
        """Returns False when nothing was running."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            try:
                waited, _ = os.waitpid(pid, os.WNOHANG)
                if waited == pid:
                    break
            except ChildProcessError:
                pass
            time.sleep(POLL_SECONDS)
        else:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServerStatus:
        pid = self.running_pid()
        info = self._http_info() if pid is not None else None
        return ServerStatus(
            running=pid is not None,
            pid=pid,
            version=info.get("neo4j_version") if info else None,
            bolt_uri=self.bolt_uri,
            browser_url=self.browser_url,
        )
