# The real app under daphne against the test database: the browser tests' harness.
from tests.browser.conftest import asgi_server, asgi_server_env  # noqa: F401
