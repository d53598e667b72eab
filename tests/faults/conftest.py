"""Fixtures of the fault tests (issue 9): see faultstack.py."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from faultstack import SERVER_ENV, Stack, clone_cluster, destroy_cluster

from harness import functions_server
from sharpened.pgcluster import Cluster


@pytest.fixture(scope="module")
def stack(
    pg_cluster: Cluster, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    cluster = clone_cluster(pg_cluster)
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"create database faults template {template_db}")
        db_url = cluster.url("faults")
        log_path = tmp_path_factory.mktemp("faults") / "functions.log"
        with functions_server(db_url, log_path, dict(SERVER_ENV)) as (server, base):
            yield Stack(cluster, db_url, base, server, log_path)
    finally:
        destroy_cluster(cluster)
