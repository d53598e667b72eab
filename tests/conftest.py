"""Shared fixtures: one throwaway cluster per test session (its own port, so
`make dev` may run at the same time), a template database built by the real
deploy path, and per-test isolation (a rolled-back transaction, or a fresh
database copied from the template)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import (
    PostgrestSession,
    build_template,
    connect,
    create_database,
    drop_database,
    functions_server,
    install_test_helpers,
)
from sharpened.pgcluster import Cluster, start_throwaway_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_throwaway_cluster(prefix="sharpened-test-")
    try:
        yield cluster
    finally:
        cluster.destroy()


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
    """One database for the rolled-back-transaction tests, with the SQL test helpers."""
    url = pg_cluster.url(create_database(pg_cluster, template=template_db))
    install_test_helpers(url)
    return url


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
    log_path = tmp_path_factory.mktemp("functions") / "functions.log"
    with functions_server(e2e_db, log_path) as (_, base):
        yield base
