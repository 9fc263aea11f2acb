"""The ``podium`` command line for operators: ``podium --help`` lists every command."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from backend.commands import Progress, run, run_async
from backend.settings import SettingsError, get_settings


async def migrate() -> int:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")  # Piccolo's migrations read it
    print("Applying migrations…", file=sys.stderr)
    result = await run_forwards(app_name="all")
    if not result.success:
        print(f"Migration failed: {result.message}", file=sys.stderr)
        return 1
    print("Database is up to date.", file=sys.stderr)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    return run(migrate())


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if args.migrate and run(migrate()) != 0:
        return 1
    print(
        f"Podium on {settings.base_url} ({'PostgreSQL' if settings.is_postgres else 'SQLite'}, "
        f"jobs {'on arq' if settings.redis_url else 'in-process'})",
        file=sys.stderr,
    )
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.trusted_proxies),  # the login limit trusts the same
        log_level="info",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from backend.worker import run

    settings = get_settings()
    if not settings.redis_url:
        print(
            "podium worker needs PODIUM_REDIS_URL; without it jobs run inside `podium serve`.",
            file=sys.stderr,
        )
        return 2
    run(settings, burst=args.burst)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from backend.accounts import service
    from backend.accounts.schemas import UserIn
    from backend.errors import DomainError

    password = args.password or getpass.getpass("Password (8+ characters): ")
    try:
        import msgspec

        data = msgspec.convert(
            {
                "email": args.email,
                "password": password,
                "display_name": args.name or args.email,
                "locale": args.locale,
            },
            UserIn,
        )
    except msgspec.ValidationError as exc:
        print(f"Invalid value: {exc}", file=sys.stderr)
        return 2

    async def create() -> int:
        try:
            user = await service.create_user(None, data, platform_admin=True)
        except DomainError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
        print(f"Platform admin {user.email} created (id {user.id}).", file=sys.stderr)
        return 0

    return run_async(create)


def cmd_demo(args: argparse.Namespace) -> int:
    from backend.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    async def load() -> int:
        from backend import domain, tasks

        if await migrate() != 0:
            return 1
        # the services queue jobs as the demo goes through them (e.g. a status refresh after the rules
        # are set): they run in this process on the embedded default, else in the worker
        queue = await tasks.queue_for(get_settings(), domain.jobs())
        previous = tasks.install(queue)
        try:
            await load_demo(progress=lambda label, total: Progress(label, total))
        finally:
            tasks.install(previous)
            await queue.close()
        return 0

    status = run_async(load)
    if status == 0:
        print(f"\nDemo loaded. Log in at {get_settings().base_url}/login with password {DEMO_PASSWORD!r}:")
        for role, email in DEMO_LOGINS.items():
            print(f"  {role:<19} {email}")
        print(
            "  (also judge02..30, team002..300 and booth01..40 @podium.example; workspace: /workspace; back office: /admin/)"
        )
        print(
            "  judging: judges score at /judge (judge@ sits in room 1 of the live final); the team leader's"
            " team has an open appeal at /teams/…/results"
        )
        from backend.demo.ticketing import device_tokens

        print(
            "  check-in: tickets at /tickets, lists, devices and attendance under each event's /ticketing;"
            " the fair's crew passes (organizer@, checkin@) scan today. Scanner devices (open the link):"
        )
        for slug, name, token in device_tokens():
            print(f"  {slug:<32} {name}\n    {get_settings().base_url}/scan#device={token}")
        from backend.demo.incubator import LOGINS as INCUBATOR_LOGINS

        print(
            "  incubator: /incubator, programme silk-road-incubator, cohort 2025 summer (the contest's 40 prize"
            " winners, 18 months in); founder@'s latest report is missing and its reminders are in the outbox:"
        )
        for role, email in INCUBATOR_LOGINS.items():
            print(f"  {role:<19} {email}")
        print("  (also mentor02..06 in the directory: mentor02@ mentors the whole cohort)")
    return status


def cmd_institutions_import(args: argparse.Namespace) -> int:
    from backend.institutions.service import CsvRowError, import_institutions, parse_csv

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read: {exc}", file=sys.stderr)
        return 2
    try:
        items = parse_csv(text)
    except CsvRowError as exc:
        print(f"{path}: {exc.detail}", file=sys.stderr)
        return 2

    async def run() -> int:
        result = await import_institutions(items, progress=Progress("Importing institutions", len(items)))
        print(
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged",
            file=sys.stderr,
        )
        return 0

    return run_async(run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podium", description="Podium: contests, forums, fairs and incubation."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    p.add_argument("--migrate", action="store_true", help="apply migrations first")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("worker", help="run an arq worker for background jobs (needs PODIUM_REDIS_URL)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.set_defaults(handler=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)

    p = sub.add_parser("demo", help="migrate and load the demo data (idempotent)")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("createadmin", help="create a platform admin account")
    p.add_argument("--email", required=True)
    p.add_argument("--name")
    p.add_argument("--password", help="prompted for when omitted")
    p.add_argument("--locale", default="zh", choices=["zh", "en", "ru"])
    p.set_defaults(handler=cmd_createadmin)

    p = sub.add_parser("institutions", help="the institutions directory")
    inst = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = inst.add_parser(
        "import",
        help="import or update institutions from a CSV file (columns name_zh,name_en,kind,country,region)",
    )
    q.add_argument("file")
    q.set_defaults(handler=cmd_institutions_import)

    from judging.commands import register

    register(sub)
    from ticketing.commands import register as register_ticketing

    register_ticketing(sub)
    from incubator.reminders.commands import register as register_incubator

    register_incubator(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    return args.handler(args)
