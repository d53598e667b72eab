"""A private PostgreSQL 15 cluster in a folder: the local stack's database and the test harness's.

``initdb`` and ``postgres`` refuse to run as root, so when this process is
root (CI, these machines) every server command runs as the ``postgres`` OS
user via ``runuser`` and the cluster folder is owned by it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_BINDIR = Path(os.environ.get("SHARPENED_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
PASSWORD = "postgres"  # noqa: S105 - the well-known local development password, as Supabase's


class ClusterError(RuntimeError):
    """A server command failed; the message carries its output."""


def _server_user() -> str | None:
    """The OS user server commands must run as, or None for the current user."""
    return "postgres" if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster living in ``base_dir`` and listening on 127.0.0.1:``port``."""

    base_dir: Path
    port: int
    durable: bool = True  # False: fsync off, for throwaway test clusters

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}?sslmode=disable"

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(PG_BINDIR / program), *args]
        user = _server_user()
        if user:
            command = ["runuser", "-u", user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise ClusterError(
                f"{program} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def _own(self, path: Path) -> None:
        user = _server_user()
        if user:
            entry = pwd.getpwnam(user)
            for root, dirs, files in os.walk(path):
                os.chown(root, entry.pw_uid, entry.pw_gid)
                for name in dirs + files:
                    os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """initdb with a password for TCP (scram) and Supabase's server settings."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self._own(self.base_dir)
        with tempfile.NamedTemporaryFile("w", suffix=".pw", delete=False) as pwfile:
            pwfile.write(PASSWORD + "\n")
        os.chmod(pwfile.name, 0o644)
        try:
            args = [
                "-D", str(self.data_dir), "-U", SUPERUSER, "--pwfile", pwfile.name,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8",
            ]  # fmt: skip
            if not self.durable:
                args.append("--no-sync")
            self._run("initdb", *args)
        finally:
            os.unlink(pwfile.name)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "shared_preload_libraries": "'pg_cron'",
            "cron.database_name": "'postgres'",
            "max_connections": "100",
            "log_min_messages": "warning",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf = self.data_dir / "postgresql.conf"
        conf.write_text(conf.read_text() + "\n# SHARPENED local stack\n" + lines)

    @property
    def running(self) -> bool:
        return (
            self.initialized
            and self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0
        )

    def start(self, timeout: int = 60) -> None:
        if self.running:
            return
        self._run(
            "pg_ctl", "start", "-w", "-t", str(timeout), "-D", str(self.data_dir),
            "-l", str(self.log_file),
        )  # fmt: skip
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"PostgreSQL on port {self.port} did not become ready"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data_dir))

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_throwaway_cluster(prefix: str) -> Cluster:
    """A started fsync-off cluster in a new temp folder on a free port (tests, benchmarks).

    ``destroy()`` removes the whole folder.
    """
    cluster = Cluster(Path(tempfile.mkdtemp(prefix=prefix)), free_port(), durable=False)
    cluster.init()
    cluster.start()
    return cluster
