"""Shared set-up for benchmarks: a throwaway cluster with this checkout deployed, and the
functions server over local HTTP, exactly as the tests build them."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from sharpened.db import begin_request
from sharpened.deploy import deploy
from sharpened.pgcluster import free_port, start_throwaway_cluster
from sharpened.settings import PROJECT_ROOT


@contextmanager
def throwaway_database(
    settings: Mapping[str, str] | None = None, database: str = "postgres"
) -> Iterator[str]:
    """A fresh cluster (fsync off) on a free port with this checkout deployed in ``database``
    (created unless ``postgres``); yields that database's URL.

    ``settings`` (e.g. shared_buffers and max_wal_size sized for a bulk load) are set with
    ALTER SYSTEM and the cluster restarted before the deploy. A database other than ``postgres``
    has no pg_cron connection (cron.database_name), so it can be the template of a copy.
    """
    cluster = start_throwaway_cluster(prefix="sharpened-bench-")
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            for setting, value in (settings or {}).items():
                conn.execute(f"alter system set {setting} = '{value}'")
            if database != "postgres":
                conn.execute(f'create database "{database}"')
        if settings:
            cluster.stop()
            cluster.start()
        deploy(cluster.url(database), progress=lambda _line: None)
        yield cluster.url(database)
    finally:
        cluster.destroy()


# PostgREST's statement for a GET (the shape its query log shows, as quoted in PostgREST pull
# request #2857): the request's select as a CTE, its rows counted and aggregated into the
# response body on the server. The body is read as text: PostgREST forwards it undecoded.
POSTGREST_GET = (
    "with pgrst_source as ({}) "
    "select null::bigint as total_result_set, pg_catalog.count(_postgrest_t) as page_total, "
    "coalesce(json_agg(_postgrest_t), '[]')::text as body, "
    "nullif(current_setting('response.headers', true), '') as response_headers, "
    "nullif(current_setting('response.status', true), '') as response_status "
    "from (select * from pgrst_source) as _postgrest_t"
)


def postgrest_get(
    conn: psycopg.Connection[Any],
    claims: Mapping[str, Any],
    select: str,
    params: Sequence[Any] = (),
) -> int:
    """One GET as PostgREST serves it: a read-only transaction, the prelude as ``claims``'
    user (role ``authenticated``), then ``select`` in PostgREST's statement; returns the
    number of rows in the body."""
    with conn.transaction():
        conn.execute("set transaction read only")
        begin_request(conn, "authenticated", claims, None, "GET")
        row = conn.execute(POSTGREST_GET.format(select), params).fetchone()
    assert row is not None
    return int(row[1])


@contextmanager
def functions_server(db_url: str, **env: str) -> Iterator[str]:
    """`sharpened functions serve` against ``db_url``; yields the functions base URL."""
    port = free_port()
    environment = {**os.environ, "SHARPENED_DB_URL": db_url, **env}
    environment.pop("OPENAI_API_KEY", None)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sharpened.cli", "functions", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}/functions/v1"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"functions server did not start:\n{log.read().decode()}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: Sequence[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds of durations in seconds."""
    return statistics.median(values) * 1000, percentile(values, 0.95) * 1000


@dataclass(frozen=True)
class Figure:
    """One row of the `make bench` summary table: a measured figure next to its same-run baseline.

    ``ratio`` is ``value / baseline`` (None when there is no baseline to divide by); ``met`` is
    None when the issues set no target for this figure.
    """

    benchmark: str
    figure: str
    value: float
    unit: str
    baseline: str
    ratio: float | None
    target: str = ""
    met: bool | None = None


def fmt(value: float, unit: str) -> str:
    """``value`` with ``unit``, with as many decimals as the magnitude needs."""
    if unit == "x":
        return f"{value:.2f}x"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured markdown table, columns padded so it also reads as plain text."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def figures_table(figures: Sequence[Figure]) -> list[str]:
    """The summary table: benchmark | figure | value | same-run baseline | ratio | target | met."""
    rows = [
        [
            f.benchmark,
            f.figure,
            fmt(f.value, f.unit),
            f.baseline,
            "" if f.ratio is None else f"{f.ratio:.2f}x",
            f.target or "-",
            "-" if f.met is None else ("yes" if f.met else "**NO**"),
        ]
        for f in figures
    ]
    header = ["benchmark", "figure", "value", "same-run baseline", "ratio", "target", "met"]
    return markdown_table(header, rows)
