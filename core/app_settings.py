"""Each app's settings, read lazily (django-allauth's `app_settings` pattern).

An app lists its settings once, with their defaults, in its own `app_settings.py`:

    class AppSettings:
        MESSAGE_RATE_LIMIT = setting("MESSAGE_RATE_LIMIT", "5/1")

Each read looks at `django.conf.settings` then, never at import time, so the
environment (chatsite/settings.py sets a name only when the environment gives it)
and `override_settings` both apply (docs/configuration.md).
"""

from collections.abc import Callable

from django.conf import settings


def setting(name: str, default, convert: Callable | None = None) -> property:
    """`settings.<name>` at each read, `default` when the project leaves it unset."""

    def read(_app_settings):
        value = getattr(settings, name, default)
        return convert(value) if convert is not None else value

    return property(read)
