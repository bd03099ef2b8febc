from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Modération")

    def ready(self) -> None:
        # Rooms never imports moderation: moderation registers its checks there.
        from moderation import policy_hooks, raid

        policy_hooks.register()
        raid.register()  # raid mode's checks, after the sanctions' and filters

        # A moderator who signs out is no longer online (moderation/staff_presence.py).
        from django.contrib.auth.signals import user_logged_out

        from moderation import staff_presence

        user_logged_out.connect(
            staff_presence.on_signed_out, dispatch_uid="moderation.staff_presence.signed_out"
        )
