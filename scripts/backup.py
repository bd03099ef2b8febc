#!/usr/bin/env python3
"""Backups of Chatsite's PostgreSQL database and the restore drill (docs/operations.md).

  backup.py dump [--dir DIR]              pg_dump --format=custom of DATABASE_URL, with a
                                          manifest of every table's row count in the same snapshot
  backup.py restore BACKUP TARGET_URL     pg_restore into a fresh database (created if absent,
                                          refused if it has tables)
  backup.py verify BACKUP TARGET_URL      the target's row counts against the backup's manifest
  backup.py drill [--checkpoint FILE]...  dump, restore into a scratch database, verify, run
                                          audit_verify against it, drop it

Exit codes: 0 done, 1 a verification failed, 2 refused (bad arguments or environment).
"""

import argparse
import datetime
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = ("postgres", "postgresql")


class Refused(Exception):
    """A usage error: nothing was changed."""


def postgres_url(url: str | None, what: str) -> str:
    if not url or urlsplit(url).scheme not in POSTGRES_SCHEMES:
        raise Refused(f"{what} must be a PostgreSQL URL (postgres://...), not {url or 'unset'!r}")
    if not urlsplit(url).path.strip("/"):
        raise Refused(f"{what} must name a database")
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def without_password(url: str) -> tuple[str, dict]:
    """The URL without its password, and the environment that passes it to libpq:
    a password on a command line is visible to every user of the host (ps)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, dict(os.environ)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), {
        **os.environ,
        "PGPASSWORD": unquote(parts.password),
    }


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise Refused(f"{program} is not installed (Debian: apt-get install postgresql-client)")
    return path


def table_counts(connection) -> dict[str, int]:
    """Rows of every table outside PostgreSQL's own schemas, as schema.table."""
    tables = connection.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    return {
        f"{schema}.{table}": connection.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()[0]
        for schema, table in tables
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


# --- dump ----------------------------------------------------------------------------------


def dump(url: str, directory: Path) -> Path:
    pg_dump = need("pg_dump")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)  # the dump holds every member's data
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = directory / f"chatsite-{database_name(url)}-{stamp}.dump"
    partial = backup.with_name(backup.name + ".partial")
    # The counts and the dump read one snapshot: a live site's later writes
    # change neither, so a restore can be checked against the counts exactly.
    with psycopg.connect(url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = table_counts(connection)
        old_umask = os.umask(0o077)
        try:
            bare_url, env = without_password(url)
            subprocess.run(  # noqa: S603 - fixed program, arguments from the operator
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                    bare_url,
                ],
                check=True,
                env=env,
            )
        finally:
            os.umask(old_umask)
        connection.rollback()
    partial.rename(backup)
    manifest = {
        "database": database_name(url),
        "created": stamp,
        "file": backup.name,
        "sha256": sha256_of(backup),
        "tables": counts,
    }
    manifest_path(backup).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    manifest_path(backup).chmod(0o600)
    return backup


# --- restore -------------------------------------------------------------------------------


def database_exists(url: str) -> bool:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        return bool(
            connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]
            ).fetchone()
        )


def create_database_if_absent(url: str) -> None:
    if database_exists(url):
        return
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))


def restore(backup: Path, url: str, *, privileges: bool = True) -> None:
    pg_restore = need("pg_restore")
    if not backup.is_file():
        raise Refused(f"no backup at {backup}")
    manifest = manifest_path(backup)
    if manifest.is_file() and json.loads(manifest.read_text())["sha256"] != sha256_of(backup):
        raise Refused(f"{backup} does not match the SHA-256 of {manifest.name}: damaged?")
    create_database_if_absent(url)
    with psycopg.connect(url) as connection:
        if table_counts(connection):
            raise Refused(
                f"{database_name(url)} already has tables: restore into a new, empty database"
            )
    command = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction"]
    if not privileges:
        command.append("--no-privileges")  # another cluster, without the site's roles
    bare_url, env = without_password(url)
    subprocess.run([*command, f"--dbname={bare_url}", str(backup)], check=True, env=env)  # noqa: S603


def verify(backup: Path, url: str) -> list[str]:
    """The tables whose row count differs from the manifest's (empty: identical)."""
    expected = json.loads(manifest_path(backup).read_text())["tables"]
    with psycopg.connect(url) as connection:
        actual = table_counts(connection)
    return [
        f"{table}: {expected.get(table, 'absent')} in the backup, "
        f"{actual.get(table, 'absent')} restored"
        for table in sorted(set(expected) | set(actual))
        if expected.get(table) != actual.get(table)
    ]


def drop_database(url: str) -> None:
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )


def audit_verify(url: str, checkpoints: list[str]) -> int:
    command = [sys.executable, str(ROOT / "manage.py"), "audit_verify"]
    for checkpoint in checkpoints:
        command += ["--checkpoint", checkpoint]
    result = subprocess.run(command, env={**os.environ, "DATABASE_URL": url}, check=False)  # noqa: S603
    return result.returncode


def drill(
    url: str, directory: Path, checkpoints: list[str], keep: bool, scratch_name: str | None
) -> int:
    scratch = with_database(
        url, scratch_name or f"{database_name(url)}_restore_drill_{secrets.token_hex(4)}"
    )
    if database_exists(scratch):
        # The drill drops its scratch database at the end: never one it did not create.
        raise Refused(f"{database_name(scratch)} exists: the drill needs a new database")
    backup = dump(url, directory)
    print(f"drill: dumped {backup}")
    try:
        restore(backup, scratch, privileges=False)
        print(f"drill: restored into {database_name(scratch)}")
        differences = verify(backup, scratch)
        for line in differences:
            print(f"drill: row count differs: {line}", file=sys.stderr)
        if differences:
            return 1
        tables = json.loads(manifest_path(backup).read_text())["tables"]
        print(f"drill: {len(tables)} tables, identical row counts")
        status = audit_verify(scratch, checkpoints)
        print(f"drill: audit_verify exited {status}")
        return 0 if status == 0 else 1
    finally:
        if not keep:
            drop_database(scratch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    default_dir = Path(os.environ.get("CHATSITE_VAR_DIR", ROOT / "var")) / "backups"
    dump_parser = commands.add_parser("dump", help="pg_dump DATABASE_URL")
    dump_parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("BACKUP_DIR", default_dir))
    )
    for name in ("restore", "verify"):
        sub = commands.add_parser(name)
        sub.add_argument("backup", type=Path)
        sub.add_argument("target_url")
    commands.choices["restore"].add_argument(
        "--no-privileges", action="store_true", help="skip GRANTs (roles of another cluster)"
    )
    drill_parser = commands.add_parser("drill", help="the whole restore drill")
    drill_parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE")
    drill_parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("BACKUP_DIR", default_dir))
    )
    drill_parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    drill_parser.add_argument(
        "--scratch-name", help="the scratch database (default: <name>_restore_drill_<random>)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "dump":
            print(dump(postgres_url(os.environ.get("DATABASE_URL"), "DATABASE_URL"), args.dir))
            return 0
        if args.command == "restore":
            restore(
                args.backup,
                postgres_url(args.target_url, "TARGET_DATABASE_URL"),
                privileges=not args.no_privileges,
            )
            print(f"restored {args.backup} into {database_name(args.target_url)}")
            return 0
        if args.command == "verify":
            differences = verify(args.backup, postgres_url(args.target_url, "TARGET_DATABASE_URL"))
            for line in differences:
                print(line, file=sys.stderr)
            if not differences:
                print("row counts identical to the backup's manifest")
            return 1 if differences else 0
        url = postgres_url(os.environ.get("DATABASE_URL"), "DATABASE_URL")
        return drill(url, args.dir, args.checkpoint, args.keep, args.scratch_name)
    except Refused as refusal:
        print(f"backup: {refusal}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as failure:
        print(
            f"backup: {failure.cmd[0]} failed with exit code {failure.returncode}", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
