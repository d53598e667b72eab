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

import httpx
import psycopg

from sharpened.deploy import deploy
from sharpened.pgcluster import free_port, start_throwaway_cluster
from sharpened.settings import PROJECT_ROOT


@contextmanager
def throwaway_database(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """A fresh cluster (fsync off) on a free port with this checkout deployed; yields its URL.

    ``settings`` (e.g. shared_buffers and max_wal_size sized for a bulk load) are set with
    ALTER SYSTEM and the cluster restarted before the deploy.
    """
    cluster = start_throwaway_cluster(prefix="sharpened-bench-")
    try:
        if settings:
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                for setting, value in settings.items():
                    conn.execute(f"alter system set {setting} = '{value}'")
            cluster.stop()
            cluster.start()
        deploy(cluster.url(), progress=lambda _line: None)
        yield cluster.url()
    finally:
        cluster.destroy()


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
