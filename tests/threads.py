"""Database work from a short-lived thread, its connection given back.

Playwright's sync API runs an event loop in the test's own thread, where Django
refuses synchronous queries: such setup and checks run in a thread of their
own. On PostgreSQL the connection that thread takes comes from psycopg's pool,
and a pooled connection that a thread never gives back is lost with the thread
(the pool cannot see it go): about twenty of them and every later test waits
10 s for a connection and fails. So the thread closes its connections, which
returns them to the pool, before it ends.
"""

from concurrent.futures import ThreadPoolExecutor

from django.db import connections


def in_thread(function, *args, **kwargs):
    """`function(*args, **kwargs)` in a thread of its own; its result or its exception."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()
