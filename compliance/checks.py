"""`manage.py check --deploy`: the public legal pages need real values.

The legal notice (LCEN art. 6-III) must name the publisher, its address and phone, the
director of publication and the host; missing them is an offence, so a production
deployment should not start without them. Only under --deploy: development keeps its
placeholders (docs/configuration.md).
"""

from django.conf import settings
from django.core import checks

REQUIRED_LEGAL_SETTINGS = (
    "LEGAL_PUBLISHER_NAME",
    "LEGAL_ADDRESS",
    "LEGAL_PHONE",
    "LEGAL_DIRECTOR_NAME",
    "LEGAL_HOST_NAME",
    "LEGAL_HOST_ADDRESS",
    "LEGAL_HOST_PHONE",
)
CONTACT_SETTINGS = ("LEGAL_CONTACT_EMAIL", "PRIVACY_CONTACT_EMAIL", "AUTHORITIES_CONTACT_EMAIL")
PLACEHOLDER_DOMAIN = ".localhost"


def check_legal_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    missing = [name for name in REQUIRED_LEGAL_SETTINGS if not getattr(settings, name)]
    placeholders = [
        name
        for name in CONTACT_SETTINGS
        if getattr(settings, name).strip().lower().endswith(PLACEHOLDER_DOMAIN)
    ]
    problems = []
    if missing:
        problems.append(
            checks.Warning(
                f"The legal notice (/legal/) lacks: {', '.join(missing)}.",
                hint="Set them in the environment (docs/configuration.md): LCEN art. 6-III.",
                id="compliance.W001",
            )
        )
    if placeholders:
        problems.append(
            checks.Warning(
                f"Contact addresses still at their development default: {', '.join(placeholders)}.",
                hint="Give real mailboxes: members and authorities write to them.",
                id="compliance.W002",
            )
        )
    return problems
