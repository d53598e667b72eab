"""The ``sharpened`` command: local stack, deploys, functions server, tokens, demo, gates."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg

from sharpened.auth import mint_user_token
from sharpened.db import connection_options
from sharpened.deploy import DeployError, deploy
from sharpened.local import LocalStack, StackError, format_info
from sharpened.pgcluster import ClusterError
from sharpened.settings import get_settings
from sharpened.users import create_user


def say(line: str) -> None:
    print(line, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_local(args: argparse.Namespace) -> int:
    settings = get_settings()
    stack = LocalStack(settings)
    if args.action == "status":
        info = stack.status()
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            say(f"database: {'running' if info['database_running'] else 'stopped'}")
            say(f"functions: {'running' if info['functions_running'] else 'stopped'}")
            say(format_info(info))
        return 0 if info["database_running"] else 3
    if args.action == "down":
        stack.down(say)
        return 0
    if args.action == "reset":
        stack.reset(say)
        say("local stack reset: the next `sharpened local up` starts from an empty database")
        return 0
    # up
    if not args.detach:
        stack.check_functions_port()
    stack.start_database(say)
    if args.detach:
        stack.start_functions_detached(say)
        say("\nlocal stack started (detached); stop it with `sharpened local down`\n")
        say(format_info(stack.connection_info()))
        return 0
    from sharpened.gateway import make_gateway
    from sharpened.reassessment.relay import Relay

    os.environ.update(stack.functions_environment())  # the in-process functions use this stack
    get_settings.cache_clear()
    server = make_gateway(settings.functions_host, settings.functions_port)
    # The database's function calls (pg_cron's reassessment runs) reach this server.
    Relay(stack.db_url, stack.functions_url).start()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the stack as cleanly as Ctrl-C
    say("\nlocal stack ready; serving until Ctrl-C\n")
    say(format_info(stack.connection_info()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("\nstopping")
    finally:
        server.server_close()
        stack.down(say)
    return 0


def cmd_db_deploy(args: argparse.Namespace) -> int:
    report = deploy(args.db_url, seed=args.seed, bootstrap=args.bootstrap, progress=say)
    say("deploy finished: " + ("changes applied" if report.changed_anything else "nothing to do"))
    return 0


def cmd_functions_serve(args: argparse.Namespace) -> int:
    from sharpened.gateway import make_gateway

    settings = get_settings()
    server = make_gateway(
        args.host or settings.functions_host, args.port or settings.functions_port
    )
    base = f"http://{server.host}:{server.port}/functions/v1"
    say(f"serving functions on {base}/<name>")
    if args.relay:
        from sharpened.reassessment.relay import Relay

        Relay(settings.db_url, base).start()
        say("relaying the database's function calls (private.function_calls) to it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    settings = get_settings()
    with psycopg.connect(args.db_url or settings.db_url) as conn:
        user_id = create_user(conn, args.email, display_name=args.display_name)
    token = mint_user_token(user_id, args.email, expires_in=args.expires_in)
    print(json.dumps({"id": str(user_id), "email": args.email, "access_token": token}, indent=2))
    return 0


def cmd_keys_mint(args: argparse.Namespace) -> int:
    from sharpened.db import Database
    from sharpened.keys import mint_keys_as_service

    db = Database(args.db_url or get_settings().db_url, min_size=1, max_size=1)
    try:
        keys = mint_keys_as_service(
            db, args.count, args.max_uses, args.expires_in_days, args.assigned_to
        )
    finally:
        db.close()
    print(json.dumps([key.as_json() for key in keys], indent=2))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    print(mint_user_token(args.user_id, args.email, expires_in=args.expires_in))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sharpened.demo import run_demo

    return run_demo(say)


class ProgressBar:
    """A one-line progress bar on stderr (a line per update when stderr is not a terminal)."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total = max(total, 0)
        self.width = width
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()

    def update(self, done: int, detail: str) -> None:
        total = max(self.total, done)
        fraction = done / total if total else 1.0
        filled = round(self.width * fraction)
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} ({rate:.0f}/s) {detail}"
        )
        if self.tty:
            sys.stderr.write("\r" + line + "\x1b[K")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _reassess_worker(url: str, batch_size: int, updates: Any) -> None:
    """One worker process of `sharpened reassess`: reports each batch, then its totals."""
    from sharpened.reassessment.worker import work_queue, worker_name

    try:
        total = work_queue(
            url,
            worker_name("cli"),
            batch_size,
            progress=lambda batch: updates.put(("batch", batch.as_json())),
        )
        updates.put(("total", total.as_json()))
    except Exception as exc:
        updates.put(("error", f"{type(exc).__name__}: {exc}"))


def cmd_reassess(args: argparse.Namespace) -> int:
    import multiprocessing

    from sharpened.reassessment.worker import BatchResult, claimable, enqueue_due, summary_line

    if not 1 <= args.batch_size <= 1000:
        raise ValueError("--batch-size must be between 1 and 1000")
    if not 1 <= args.workers <= 32:
        raise ValueError("--workers must be between 1 and 32")
    url = args.db_url or get_settings().db_url
    with psycopg.connect(url, **connection_options()) as conn:
        if args.due:
            say(f"queued {enqueue_due(conn)} due program(s)")
        total_jobs = claimable(conn)
    say(f"{total_jobs} job(s) to work with {args.workers} worker(s), batches of {args.batch_size}")
    # Worker processes (the controllers are CPU work: threads would share one core).
    ctx = multiprocessing.get_context("spawn")
    updates = ctx.Queue()
    started = time.perf_counter()
    processes = [
        ctx.Process(target=_reassess_worker, args=(url, args.batch_size, updates))
        for _ in range(args.workers)
    ]
    for process in processes:
        process.start()
    bar = ProgressBar(total_jobs)
    progress, summed, errors, finished = BatchResult(), BatchResult(), [], 0
    while finished < len(processes):
        kind, payload = updates.get()
        if kind == "batch":
            progress.add(BatchResult(**payload))
            handled = progress.done + progress.already_done + progress.failed + progress.dead
            bar.update(handled, f"failed {progress.failed + progress.dead}")
        else:
            finished += 1
            if kind == "total":
                summed.add(BatchResult(**payload))
            else:
                errors.append(payload)
    for process in processes:
        process.join()
    bar.close()
    summed.seconds = time.perf_counter() - started
    say(summary_line(summed))
    for error in errors:
        print(f"error: a worker stopped: {error}", file=sys.stderr)
    return 1 if errors else (0 if summed.failed + summed.dead == 0 else 2)


def cmd_openapi(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sharpened.openapi import SPEC_PATH, generated_yaml

    path = Path(args.output) if args.output else SPEC_PATH
    text = generated_yaml()
    current = path.read_text() if path.exists() else None
    if args.check:
        if current != text:
            print(f"error: {path} is out of date; run `make openapi`", file=sys.stderr)
            return 1
        say(f"{path} is up to date")
        return 0
    if current != text:
        path.write_text(text)
    say(f"{path}: {'written' if current != text else 'unchanged'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from sharpened.gates import check_advisors, check_plpgsql_lint

    check = check_advisors if args.gate == "advisors" else check_plpgsql_lint
    return 0 if check(args.db_url, say) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sharpened", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the Docker-free local stack")
    local_actions = local.add_subparsers(dest="action", required=True)
    up = local_actions.add_parser("up", help="start (creating on first use) and serve until Ctrl-C")
    up.add_argument("--detach", action="store_true", help="start in the background and return")
    local_actions.add_parser("down", help="stop the database and functions (data kept)")
    status = local_actions.add_parser("status", help="is it running; connection info")
    status.add_argument("--json", action="store_true", help="machine-readable connection info")
    local_actions.add_parser("reset", help="stop and delete the local database")
    local.set_defaults(handler=cmd_local)

    db = commands.add_parser("db", help="database deploys")
    db_actions = db.add_subparsers(dest="action", required=True)
    dep = db_actions.add_parser(
        "deploy", help="bootstrap (bare Postgres only) + migrations + policies"
    )
    dep.add_argument("--db-url", required=True, help="PostgreSQL URL of the target database")
    dep.add_argument("--seed", action="store_true", help="also apply supabase/seed.sql")
    dep.add_argument(
        "--bootstrap",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: only when the database has no Supabase auth schema (default)",
    )
    dep.set_defaults(handler=cmd_db_deploy)

    functions = commands.add_parser("functions", help="the functions server")
    fn_actions = functions.add_subparsers(dest="action", required=True)
    serve = fn_actions.add_parser("serve", help="serve /functions/v1/<name> in the foreground")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--relay",
        action="store_true",
        help="also deliver the database's queued function calls to this server (local stack)",
    )
    functions.set_defaults(handler=cmd_functions_serve)

    user = commands.add_parser("user", help="local users (development only)")
    user_actions = user.add_subparsers(dest="action", required=True)
    create = user_actions.add_parser("create", help="sign up a user and print an access token")
    create.add_argument("--email", required=True)
    create.add_argument("--display-name")
    create.add_argument("--db-url", help="default: SHARPENED_DB_URL")
    create.add_argument("--expires-in", type=int, default=3600, help="token lifetime, seconds")
    user.set_defaults(handler=cmd_user_create)

    keys = commands.add_parser("keys", help="consultation keys (operators)")
    key_actions = keys.add_subparsers(dest="action", required=True)
    mint = key_actions.add_parser("mint", help="create consultation keys and print them as JSON")
    mint.add_argument("--count", type=int, default=1, help="how many keys (default 1)")
    mint.add_argument("--max-uses", type=int, default=1, help="redemptions per key (default 1)")
    mint.add_argument("--expires-in-days", type=float, help="default: never expires")
    mint.add_argument("--assigned-to", type=uuid.UUID, help="only this user may redeem it")
    mint.add_argument("--db-url", help="default: SHARPENED_DB_URL")
    keys.set_defaults(handler=cmd_keys_mint)

    token = commands.add_parser("token", help="mint an access token for a user (development only)")
    token.add_argument("--user-id", required=True)
    token.add_argument("--email")
    token.add_argument("--expires-in", type=int, default=3600)
    token.set_defaults(handler=cmd_token)

    demo = commands.add_parser("demo", help="the demo journey against the running local stack")
    demo.set_defaults(handler=cmd_demo)

    reassess = commands.add_parser(
        "reassess", help="work the reassessment queue (DOMAIN §8) with a progress bar"
    )
    reassess.add_argument(
        "--due", action="store_true", help="first queue every program whose reassessment is due"
    )
    reassess.add_argument("--batch-size", type=int, default=100, help="jobs per batch (1-1000)")
    reassess.add_argument("--workers", type=int, default=1, help="parallel workers (default 1)")
    reassess.add_argument("--db-url", help="default: SHARPENED_DB_URL")
    reassess.set_defaults(handler=cmd_reassess)

    spec = commands.add_parser(
        "openapi", help="write the functions' OpenAPI document (docs/openapi.yaml)"
    )
    spec.add_argument("--output", help="default: docs/openapi.yaml")
    spec.add_argument(
        "--check", action="store_true", help="only check the file is current (exit 1 if not)"
    )
    spec.set_defaults(handler=cmd_openapi)

    check = commands.add_parser("check", help="database gates used by `make test`")
    check.add_argument("gate", choices=("advisors", "lint"))
    check.add_argument("--db-url", required=True)
    check.set_defaults(handler=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except (DeployError, StackError, ClusterError, psycopg.Error, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
