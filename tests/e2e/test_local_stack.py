"""`sharpened local up | down | status | reset` as a developer runs them (own ports and folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from sharpened.auth import verify_token
from sharpened.pgcluster import free_port
from sharpened.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e


class Stack:
    def __init__(self, local_dir: Path) -> None:
        self.env = {
            **os.environ,
            "SHARPENED_LOCAL_DIR": str(local_dir),
            "SHARPENED_DB_PORT": str(free_port()),
            "SHARPENED_FUNCTIONS_PORT": str(free_port()),
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "sharpened.cli", "local", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"sharpened local {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result

    def status(self) -> dict[str, object]:
        return dict(json.loads(self.run("status", "--json", check=False).stdout))


@pytest.fixture
def stack() -> Iterator[Stack]:
    local_dir = Path(tempfile.mkdtemp(prefix="sharpened-stack-"))
    os.chmod(local_dir, 0o755)  # noqa: S103 - the postgres OS user must reach it when we are root
    stack = Stack(local_dir)
    try:
        yield stack
    finally:
        stack.run("down", check=False)
        subprocess.run(["rm", "-rf", str(local_dir)], check=False)


def test_up_status_down_reset(stack: Stack) -> None:
    first = stack.run("up", "--detach")
    for label in (
        "DB URL",
        "Functions URL",
        "JWT secret",
        "anon key",
        "service_role key",
        "demo user",
    ):
        assert label in first.stdout

    info = stack.status()
    assert info["database_running"] is True
    assert info["functions_running"] is True
    assert (
        info["functions_url"]
        == f"http://127.0.0.1:{stack.env['SHARPENED_FUNCTIONS_PORT']}/functions/v1"
    )
    health = httpx.get(f"{info['functions_url']}/health")
    assert health.status_code == 200

    demo = info["demo_user"]
    assert isinstance(demo, dict)
    settings = Settings()
    assert str(verify_token(demo["access_token"], settings=settings).user_id) == demo["id"]

    db_url = str(info["db_url"])
    with psycopg.connect(db_url) as conn:
        conn.execute("update public.profiles set units = 'imperial' where id = %s", (demo["id"],))

    stack.run("down")
    assert stack.run("status", check=False).returncode == 3
    assert stack.status()["database_running"] is False

    started = time.monotonic()
    stack.run("up", "--detach")
    print(f"second `local up --detach` took {time.monotonic() - started:.1f} s")
    with psycopg.connect(db_url) as conn:
        kept = conn.execute("select units from public.profiles where id = %s", (demo["id"],))
        assert kept.fetchone() == ("imperial",)

    stack.run("reset")
    assert stack.status()["database_running"] is False
    stack.run("up", "--detach")
    with psycopg.connect(db_url) as conn:
        fresh = conn.execute("select units from public.profiles where id = %s", (demo["id"],))
        assert fresh.fetchone() == ("metric",)


def test_up_refuses_a_taken_functions_port(stack: Stack) -> None:
    stack.run("up", "--detach")
    clash = subprocess.run(
        [sys.executable, "-m", "sharpened.cli", "local", "up"],
        cwd=PROJECT_ROOT,
        env=stack.env | {"SHARPENED_LOCAL_DIR": stack.env["SHARPENED_LOCAL_DIR"] + "-other"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert clash.returncode == 1
    assert f"port {stack.env['SHARPENED_FUNCTIONS_PORT']} is in use" in clash.stderr
