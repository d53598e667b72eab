"""The Docker-free local stack: a private PostgreSQL 15 cluster on 127.0.0.1:54322
plus every function on http://127.0.0.1:54321/functions/v1/<name>.

``sharpened local up`` creates the cluster on first use (data in ``.local/``,
git-ignored), starts it, deploys (bootstrap, migrations, policies, seed) and
serves the functions; a second ``up`` keeps the data and only applies what
changed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import psycopg

from sharpened.auth import api_key, mint_user_token
from sharpened.deploy import deploy
from sharpened.pgcluster import Cluster
from sharpened.settings import Settings
from sharpened.users import DEMO_EMAIL, find_user

Progress = Callable[[str], None]


class StackError(RuntimeError):
    """The local stack cannot do what was asked; the message says what to do."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class LocalStack:
    """The local database cluster and functions server, as one unit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cluster = Cluster(settings.local_dir / "postgres", settings.db_port)
        self.pid_file = settings.local_dir / "functions.pid"
        self.functions_log = settings.local_dir / "functions.log"

    @property
    def db_url(self) -> str:
        return f"postgresql://postgres:postgres@127.0.0.1:{self.settings.db_port}/postgres"

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.functions_host}:{self.settings.functions_port}"

    @property
    def functions_url(self) -> str:
        return f"{self.api_url}/functions/v1"

    # database ---------------------------------------------------------------

    def start_database(self, progress: Progress) -> None:
        """Create the cluster if needed, start it and deploy this checkout into it."""
        if not self.cluster.initialized:
            progress(f"creating the PostgreSQL 15 cluster in {self.cluster.data_dir}")
            self.cluster.init()
        if not self.cluster.running:
            if port_in_use("127.0.0.1", self.settings.db_port):
                raise StackError(
                    f"port {self.settings.db_port} is taken by another server; stop it "
                    "or set SHARPENED_DB_PORT"
                )
            progress(f"starting PostgreSQL on 127.0.0.1:{self.settings.db_port}")
            self.cluster.start()
        progress("deploying the schema (bootstrap, migrations, policies, seed)")
        deploy(self.db_url, seed=True, progress=lambda line: progress(f"  {line}"))

    # functions --------------------------------------------------------------

    def functions_pid(self) -> int | None:
        """The pid of a detached functions server that is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def functions_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.functions_url}/health", timeout=2) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    def functions_environment(self) -> dict[str, str]:
        """What the functions need to talk to this stack's database (not a default URL)."""
        return {"SHARPENED_DB_URL": self.db_url}

    def check_functions_port(self) -> None:
        if port_in_use(self.settings.functions_host, self.settings.functions_port):
            raise StackError(
                f"port {self.settings.functions_port} is in use: is a detached stack running? "
                "(`sharpened local status`; stop it with `sharpened local down`)"
            )

    def start_functions_detached(self, progress: Progress) -> None:
        if self.functions_pid() is not None:
            progress("functions server already running")
            return
        self.check_functions_port()
        progress(f"starting the functions server on {self.api_url} (log: {self.functions_log})")
        with self.functions_log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "sharpened.cli", "functions", "serve", "--relay"],
                env={**os.environ, **self.functions_environment()},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + 30
        while not self.functions_healthy():
            if process.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"the functions server did not start; see {self.functions_log}")
            time.sleep(0.2)

    def stop_functions(self, progress: Progress) -> None:
        pid = self.functions_pid()
        if pid is None:
            return
        progress("stopping the functions server")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self.functions_pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    # whole stack ------------------------------------------------------------

    def down(self, progress: Progress) -> None:
        self.stop_functions(progress)
        if self.cluster.running:
            progress("stopping PostgreSQL (data kept)")
            self.cluster.stop()

    def reset(self, progress: Progress) -> None:
        self.down(progress)
        progress(f"deleting {self.cluster.base_dir}")
        self.cluster.destroy()

    def status(self) -> dict[str, Any]:
        info = self.connection_info()
        info["database_running"] = self.cluster.running
        info["functions_running"] = self.functions_healthy()
        return info

    def connection_info(self) -> dict[str, Any]:
        """What `supabase start` prints: URLs, JWT secret, API keys, a demo user's token."""
        info: dict[str, Any] = {
            "db_url": self.db_url,
            "api_url": self.api_url,
            "functions_url": self.functions_url,
            "jwt_secret": self.settings.jwt_secret,
            "anon_key": api_key("anon", settings=self.settings),
            "service_role_key": api_key("service_role", settings=self.settings),
            "demo_user": None,
        }
        if self.cluster.running:
            with psycopg.connect(self.db_url, connect_timeout=3) as conn:
                user_id = find_user(conn, DEMO_EMAIL)
            if user_id is not None:
                info["demo_user"] = {
                    "id": str(user_id),
                    "email": DEMO_EMAIL,
                    "access_token": mint_user_token(
                        user_id, DEMO_EMAIL, settings=self.settings, expires_in=24 * 3600
                    ),
                }
        return info


def format_info(info: dict[str, Any]) -> str:
    lines = [
        f"         DB URL: {info['db_url']}",
        f"        API URL: {info['api_url']}",
        f"  Functions URL: {info['functions_url']}",
        f"     JWT secret: {info['jwt_secret']}",
        f"       anon key: {info['anon_key']}",
        f"service_role key: {info['service_role_key']}",
    ]
    demo = info.get("demo_user")
    if demo:
        lines += [
            f"      demo user: {demo['email']} ({demo['id']})",
            f"   access token: {demo['access_token']}",
            "                 (valid 24 h; `sharpened local status` prints a fresh one)",
        ]
    return "\n".join(lines)
