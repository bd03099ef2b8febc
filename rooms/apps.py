from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Salons")

    def ready(self) -> None:
        from rooms import checks  # noqa: F401 - registers the system checks
