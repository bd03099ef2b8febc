"""The host's metrics endpoint for Prometheus: `python -m chatsite.metrics_exporter`.

Prometheus cannot pass the staff second factor that GET /metrics demands, so
each host runs this small server on an internal address (never behind the
public proxy). It reads the daphne processes' shared PROMETHEUS_MULTIPROC_DIR
and adds the scrape-time database figures: the same text as GET /metrics.
"""

import argparse
import os
import sys
import threading


def parse_listen(value: str) -> tuple[str, int]:
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:9108")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=os.environ.get("METRICS_LISTEN", "127.0.0.1:9108"),
        help="HOST:PORT, an internal address (default: METRICS_LISTEN or 127.0.0.1:9108)",
    )
    args = parser.parse_args(argv)  # argparse applies `type` to the default too
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        print(
            "metrics_exporter: PROMETHEUS_MULTIPROC_DIR must name the daphne processes' "
            "metrics directory",
            file=sys.stderr,
        )
        return 2

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from django.db import connections
    from prometheus_client import CollectorRegistry, start_http_server

    from chatsite.metrics_collectors import scrape_registry

    class _ClosingRegistry:
        """A fresh view of the files per scrape; the database connection closed after it."""

        def collect(self):
            try:
                yield from scrape_registry().collect()
            finally:
                connections.close_all()

    registry = CollectorRegistry()
    registry.register(_ClosingRegistry())
    host, port = args.listen
    server, _thread = start_http_server(port, addr=host, registry=registry)
    print(f"metrics_exporter: serving http://{host}:{server.server_port}/metrics", file=sys.stderr)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
