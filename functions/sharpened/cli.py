"""The ``sharpened`` command: local stack, deploys, functions server, tokens, demo, gates."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import Sequence

import psycopg

from sharpened.auth import mint_user_token
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

    os.environ.update(stack.functions_environment())  # the in-process functions use this stack
    get_settings.cache_clear()
    server = make_gateway(settings.functions_host, settings.functions_port)
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
    say(f"serving functions on http://{server.host}:{server.port}/functions/v1/<name>")
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
