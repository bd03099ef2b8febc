"""Moderation's settings and their defaults, in one place (core/app_settings.py explains)."""

from core.app_settings import setting
from moderation.dsa import EEA_COUNTRIES


class AppSettings:
    # Where a decision applies (ISO 3166 codes of the EEA, the DSA Transparency
    # Database's territorial_scope): a removal or a ban takes effect on the whole
    # service, so by default everywhere in the EEA.
    MODERATION_TERRITORIAL_SCOPE = setting(
        "MODERATION_TERRITORIAL_SCOPE", EEA_COUNTRIES, lambda value: tuple(value)
    )


app_settings = AppSettings()
