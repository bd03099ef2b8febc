"""Creates the PostgreSQL database named by DATABASE_URL if it does not exist yet.

`make run` calls it before `migrate`, so that pointing DATABASE_URL at a fresh
server just works. SQLite needs nothing (Django creates the file).
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return 0
    name = parts.path.lstrip("/")
    if not name:
        print("DATABASE_URL names no database", file=sys.stderr)
        return 2
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
