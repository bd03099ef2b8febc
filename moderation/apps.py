from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Modération")

    def ready(self) -> None:
        # Rooms never imports moderation: moderation registers its checks there.
        from moderation import policy_hooks

        policy_hooks.register()
