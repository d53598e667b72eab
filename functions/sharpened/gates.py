"""Database gates of ``make test``: Supabase's advisors and plpgsql_check lint.

Advisors: any finding at WARN or ERROR fails, and so does any unindexed foreign key
(an INFO-level lint, but the project indexes every foreign key), unless
``supabase/advisors-allowlist.toml`` excuses it by ``cache_key`` with a written
``reason``. Other INFO findings are printed only.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sharpened.deploy import cli_db_url, supabase_cli
from sharpened.settings import PROJECT_ROOT

ALLOWLIST = PROJECT_ROOT / "supabase" / "advisors-allowlist.toml"
FAILING_LEVELS = ("WARN", "ERROR")
ALWAYS_FAILING = ("unindexed_foreign_keys",)

Say = Callable[[str], None]


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """cache_key → reason; an entry without a reason is an error."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("allow", [])
    allowed: dict[str, str] = {}
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise ValueError(f"{path}: allow-list entry {entry.get('cache_key')!r} has no reason")
        allowed[str(entry["cache_key"])] = reason
    return allowed


def advisor_findings(db_url: str) -> list[dict[str, Any]]:
    result = supabase_cli(
        "db", "advisors", "--db-url", cli_db_url(db_url), "--type", "all", "--level", "info",
        "-o", "json",
    )  # fmt: skip
    text = result.stdout.strip()
    findings: list[dict[str, Any]] = json.loads(text) if text else []
    return findings


def check_advisors(db_url: str, say: Say) -> bool:
    allowed = load_allowlist()
    failures = 0
    findings = advisor_findings(db_url)
    for finding in findings:
        level, key = finding.get("level", "?"), finding.get("cache_key", "")
        line = f"[{level}] {finding.get('name')}: {finding.get('detail')}"
        failing = level in FAILING_LEVELS or finding.get("name") in ALWAYS_FAILING
        if failing and key not in allowed:
            failures += 1
            say(f"FAIL {line}\n     cache_key: {key}")
        elif key in allowed:
            say(f"allowed {line} (reason: {allowed[key]})")
        else:
            say(f"note {line}")
    say(f"advisors: {len(findings)} finding(s), {failures} failing the gate")
    return failures == 0


def check_plpgsql_lint(db_url: str, say: Say) -> bool:
    result = supabase_cli(
        "db", "lint", "--db-url", cli_db_url(db_url), "--fail-on", "error", check=False
    )
    output = (result.stdout + result.stderr).strip()
    if output:
        say(output)
    say("plpgsql lint: " + ("no errors" if result.returncode == 0 else "errors found"))
    return result.returncode == 0
