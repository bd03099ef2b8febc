from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Salons")

    def ready(self) -> None:
        from rooms import checks, revocation  # noqa: F401 - checks registers the system checks

        revocation.connect()
