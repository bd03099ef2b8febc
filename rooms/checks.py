"""System checks: a malformed MESSAGE_RATE_LIMIT fails at start-up, not at the
first message."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.compatibility)
def check_message_rate_limit(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from rooms.ratelimit import current_limit

    try:
        current_limit()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="rooms.E001")]
    return []
