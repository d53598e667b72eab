"""The fault tests' own stack: a copy of the session cluster, a database, a functions server.

The database is stopped and started by these tests, so they do not use the session cluster: they
get a copy of it (``pg_basebackup``, a few seconds; the template database is already deployed in
it) on its own port, a database copied from the template, and a functions server of their own.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load import SERVER_ENV

from sharpened.pgcluster import PG_BINDIR, Cluster, free_port

__all__ = ["SERVER_ENV", "Stack", "clone_cluster", "destroy_cluster"]


def _as_server_user(command: list[str]) -> list[str]:
    """Server-side commands run as the ``postgres`` OS user when we are root (as pgcluster)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def clone_cluster(source: Cluster) -> Cluster:
    """A started copy of ``source`` (every database, roles included) on a free port."""
    base = Path(tempfile.mkdtemp(prefix="sharpened-faults-"))
    target = Cluster(base, free_port(), durable=False)
    target.socket_dir.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(base)], check=True)
    subprocess.run(
        _as_server_user(
            [
                str(PG_BINDIR / "pg_basebackup"), "-h", str(source.socket_dir),
                "-p", str(source.port), "-U", "postgres", "-D", str(target.data_dir),
                "--checkpoint=fast", "--no-sync", "--wal-method=stream",
            ]
        ),
        check=True,
        capture_output=True,
    )  # fmt: skip
    with (target.data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\n# fault-test copy\nport = {target.port}\n"
            f"unix_socket_directories = '{target.socket_dir}'\n"
        )
    target.start()
    return target


def destroy_cluster(cluster: Cluster) -> None:
    """Stop a throwaway copy at once (no shutdown checkpoint) and delete it."""
    subprocess.run(
        _as_server_user(
            [str(PG_BINDIR / "pg_ctl"), "stop", "-m", "immediate", "-D", str(cluster.data_dir)]
        ),
        check=False,
        capture_output=True,
    )
    cluster.destroy()


@dataclass(frozen=True)
class Stack:
    """The fault tests' own cluster, database and functions server."""

    cluster: Cluster
    db_url: str
    functions_url: str
    server: subprocess.Popen[bytes]
    log_path: Path
