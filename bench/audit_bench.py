"""Audit trail benchmark: append throughput, and audit_verify's time on a long chain.

    .venv/bin/python bench/audit_bench.py [--entries 1000000] [--database-url URL]

Works in a database of its own (created, then dropped; PostgreSQL by default,
as in production), never in the site's:
1. appends through audit.trail.record, one transaction per entry as an action
   does, with 1 writer and then with --writers concurrent writers (threads,
   each its own connection, all queueing on the chain head's lock);
2. fills the chain up to --entries with the same hashing code, in bulk (fast,
   and not counted as append throughput);
3. times `manage.py audit_verify` over the whole chain, as an operator runs it.
"""

import argparse
import datetime
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "chatsite_bench_audit"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="chain length to verify")
    parser.add_argument("--append", type=int, default=10_000, help="entries per append run")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatsite"),
        help="a server to create the benchmark database on (sqlite:///PATH for SQLite)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def prepare_database(url: str) -> tuple[str, callable]:
    """A fresh, empty database; returns its URL and how to drop it."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
            connection.execute(f"CREATE DATABASE {BENCH_DATABASE}")

        def drop():
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")

        return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")), drop
    path = ROOT / "var" / "bench" / "audit.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)


def append_run(total: int, writers: int, *, wait_for_flush: bool = True) -> float:
    """Entries per second through record(), `writers` threads sharing `total`.

    wait_for_flush=False turns PostgreSQL's synchronous_commit off for the
    writers' sessions: the ceiling set by the head's lock, not by the disk.
    """
    from django.db import connection, connections, transaction

    from audit.events import AuditEvent
    from audit.trail import record

    start = threading.Barrier(writers + 1)
    errors = []

    def writer(number: int, count: int) -> None:
        try:
            if not wait_for_flush:
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO off")
            start.wait()
            for index in range(count):
                with transaction.atomic():
                    record(
                        AuditEvent.ADMIN_CHANGE,
                        actor=None,
                        target_type="bench.writer",
                        target_id=number,
                        reason="benchmark",
                        details={"index": index, "old": {"name": "a"}, "new": {"name": "b"}},
                        ip_address="192.0.2.10",
                    )
        except Exception as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)
        finally:
            connections.close_all()

    share = total // writers
    threads = [threading.Thread(target=writer, args=(n, share)) for n in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"append run failed: {errors[0]!r}")
    return share * writers / elapsed


def _filler_rows(seq: int, prev: str, up_to: int):
    """Chain rows after (seq, prev), in ROW_FIELDS order, hashed as record() hashes them."""
    from django.utils import timezone

    from audit import chain
    from audit.events import AuditEvent

    created = timezone.now()
    while seq < up_to:
        seq += 1
        salt = secrets.token_hex(16)
        details = {"index": seq, "old": {"name": "a"}, "new": {"name": "b"}}
        digest = chain.personal_digest(
            salt, actor_label="system", ip_address="192.0.2.10", personal=None
        )
        stamp = created + datetime.timedelta(microseconds=seq)
        sealed = chain.sealed_text(
            seq=seq,
            created=stamp,
            actor_id=None,
            event=AuditEvent.ADMIN_CHANGE,
            target_type="bench.fill",
            target_id=str(seq),
            reason="benchmark",
            details=details,
            personal_digest=digest,
        )
        entry_hash = chain.entry_hash(prev, sealed)
        yield (
            seq,
            stamp,
            None,
            int(AuditEvent.ADMIN_CHANGE),
            "bench.fill",
            str(seq),
            "benchmark",
            details,
            "system",
            "192.0.2.10",
            None,
            salt,
            digest,
            prev,
            entry_hash,
        )
        prev = entry_hash


def fill(up_to: int) -> float:
    """Extends the chain to `up_to` entries in bulk (COPY on PostgreSQL); returns seconds."""
    from django.db import connection, transaction

    from audit.chain import ROW_FIELDS, canonical_json
    from audit.models import AuditEntry, ChainHead

    began = time.perf_counter()
    head = ChainHead.objects.get(pk=1)
    last = None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = f"COPY audit_auditentry ({', '.join(ROW_FIELDS)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in _filler_rows(head.seq, head.hash, up_to):
                        copy.write_row((*row[:7], canonical_json(row[7]), *row[8:]))
                        last = row
        else:
            batch = []
            for row in _filler_rows(head.seq, head.hash, up_to):
                batch.append(AuditEntry(**dict(zip(ROW_FIELDS, row, strict=True))))
                last = row
                if len(batch) == 10_000:
                    AuditEntry.objects.bulk_create(batch)
                    batch = []
            AuditEntry.objects.bulk_create(batch)
        if last is not None:
            ChainHead.objects.filter(pk=1).update(seq=last[0], hash=last[-1])
    return time.perf_counter() - began


def main() -> None:
    args = parse_args()
    database_url, drop = prepare_database(args.database_url)
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        print(f"database: {vendor} ({database_url})")
        single = append_run(args.append, 1)
        print(f"append, 1 writer:  {single:,.0f} entries/s ({args.append:,} entries)")
        concurrent = append_run(args.append, args.writers)
        print(
            f"append, {args.writers} writers: {concurrent:,.0f} entries/s ({args.append:,} entries)"
        )
        if vendor == "postgresql":
            for writers in (1, args.writers):
                rate = append_run(args.append, writers, wait_for_flush=False)
                print(
                    f"append, {writers} writer(s), synchronous_commit off: {rate:,.0f} entries/s "
                    f"({args.append:,} entries)"
                )
        seconds = fill(args.entries)
        print(f"bulk fill to {args.entries:,} entries: {seconds:.1f} s (not an append figure)")
        connection.close()
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "manage.py", "audit_verify", "--verbosity", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - began
        print(f"audit_verify over {args.entries:,} entries: {elapsed:.1f} s wall clock")
        print(f"  exit {result.returncode}: {(result.stdout or result.stderr).strip()}")
        if result.returncode != 0:
            raise SystemExit(1)
    finally:
        if not args.keep:
            drop()


if __name__ == "__main__":
    main()
