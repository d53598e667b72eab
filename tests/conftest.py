"""Shared fixtures: one throwaway cluster per test session (its own port, so
`make dev` may run at the same time), a template database built by the real
deploy path, and per-test isolation (a rolled-back transaction, or a fresh
database copied from the template)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import (
    PostgrestSession,
    build_template,
    connect,
    create_database,
    drop_database,
    free_port,
    start_throwaway_cluster,
)
from sharpened.pgcluster import Cluster
from sharpened.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_throwaway_cluster()
    try:
        yield cluster
    finally:
        cluster.destroy()
        cluster.base_dir.parent.rmdir()


@pytest.fixture(scope="session")
def template_db(pg_cluster: Cluster) -> str:
    return build_template(pg_cluster)


@pytest.fixture
def fresh_db(pg_cluster: Cluster, template_db: str) -> Iterator[str]:
    """The URL of a new database copied from the template, dropped afterwards."""
    name = create_database(pg_cluster, template=template_db)
    try:
        yield pg_cluster.url(name)
    finally:
        drop_database(pg_cluster, name)


@pytest.fixture
def empty_db(pg_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database (nothing deployed)."""
    name = create_database(pg_cluster, template=None)
    try:
        yield pg_cluster.url(name)
    finally:
        drop_database(pg_cluster, name)


@pytest.fixture(scope="session")
def shared_db(pg_cluster: Cluster, template_db: str) -> str:
    """One database for the rolled-back-transaction tests."""
    return pg_cluster.url(create_database(pg_cluster, template=template_db))


@pytest.fixture
def pg(shared_db: str) -> Iterator[PostgrestSession]:
    """A PostgREST-faithful session in a transaction that is rolled back after the test."""
    with connect(shared_db) as conn:
        conn.autocommit = False
        try:
            yield PostgrestSession(conn)
        finally:
            conn.rollback()


@pytest.fixture(scope="session")
def e2e_db(pg_cluster: Cluster, template_db: str) -> str:
    """A committed database the functions server uses in end-to-end tests."""
    return pg_cluster.url(create_database(pg_cluster, template=template_db))


@pytest.fixture(scope="session")
def functions_url(e2e_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real functions server (`sharpened functions serve`) in a subprocess, over HTTP."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("functions") / "functions.log"
    env = {**os.environ, "SHARPENED_DB_URL": e2e_db, "SHARPENED_POOL_MAX": "4"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sharpened.cli", "functions", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/functions/v1"
    try:
        _wait_for(f"{base}/health", process, log_path)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"functions server exited:\n{log_path.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"functions server did not answer at {url}:\n{log_path.read_text()}")
