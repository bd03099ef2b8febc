"""Statements of reasons in the form of the DSA Transparency Database API (Art. 24(5)).

`submission(statement)` turns one StatementOfReasons into the JSON body of the
database's `POST /api/v1/statement`; `validate` checks it against the copy of
the API's schema kept in compliance/schemas/ (docs/compliance.md says where it
comes from). `python manage.py export_statements` writes a period's as JSON
lines, ready to submit even while Chatsite, a small enterprise, is exempt.

Nothing personal leaves: the database is public (Art. 24(5) forbids personal
data in it), so the facts are written from the decision's fields (measure,
where, what it followed, the rule or the law), never from the moderator's free
text, which quotes messages and names people. A warning restricts nothing and
is not a statement the database takes (Art. 17(1)): it is left out.
"""

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import jsonschema
from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from compliance.app_settings import app_settings
from moderation.dsa import (
    AUTOMATED_DECISION_API,
    DECISION_GROUND_ILLEGAL,
    DECISION_GROUND_INCOMPATIBLE,
    EEA_COUNTRIES,
    SourceType,
)
from moderation.models import CONTENT_MEASURES, Ground, Measure, StatementOfReasons
from rooms.models import RoomKind

SCHEMA_PATH = Path(__file__).parent / "schemas" / "dsa_transparency_database_statement.schema.json"

# Measures the database takes: every one but the warning and the suspension of
# reporting (DSA Art. 23(2): no restriction on content or on the account's use).
EXPORTED_MEASURES = tuple(
    value for value in Measure.values if value not in (Measure.WARN, Measure.REPORTING)
)

MEASURE_WORDS = {
    Measure.REMOVAL: "Suppression d'un message texte",
    Measure.REJECTION: "Refus de publier un message texte retenu par un filtre",
    Measure.BLOCK: "Blocage par un filtre d'un message texte avant sa publication",
    Measure.MUTE: "Mise en sourdine du compte (il ne peut plus écrire)",
    Measure.KICK: "Exclusion temporaire du compte d'un salon",
    Measure.BAN: "Bannissement du compte",
}

SOURCE_WORDS = {
    SourceType.ARTICLE_16: "à la suite d'une notification (article 16 du règlement)",
    SourceType.TRUSTED_FLAGGER: "à la suite de la notification d'un signaleur de confiance",
    SourceType.OTHER_NOTIFICATION: "à la suite d'un signalement d'un membre",
    SourceType.VOLUNTARY: "à l'initiative de la plateforme",
}

WHERE_WORDS = {
    RoomKind.PUBLIC: "dans un salon public",
    RoomKind.PRIVATE: "dans un salon privé",
    RoomKind.DIRECT: "dans une conversation privée",
}


class InvalidSubmission(ValueError):
    """A submission the schema refuses: the statement it came from and why."""

    def __init__(self, statement_id: int, errors: list[str]):
        self.statement_id = statement_id
        self.errors = errors
        super().__init__(f"statement #{statement_id}: " + "; ".join(errors))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def validation_errors(submission: dict) -> list[str]:
    """What the schema refuses in a submission, each as "field: reason"."""
    errors = sorted(_validator().iter_errors(submission), key=lambda error: list(error.path))
    return [
        f"{'/'.join(map(str, error.path)) or '(statement)'}: {error.message}" for error in errors
    ]


def validate(statement_id: int, submission: dict) -> dict:
    errors = validation_errors(submission)
    if errors:
        raise InvalidSubmission(statement_id, errors)
    return submission


def puid(statement: StatementOfReasons) -> str:
    """The platform's unique id of the statement: never reused (the row's id)."""
    return f"{app_settings.COMPLIANCE_DSA_PUID_PREFIX}-{statement.pk}"


def _day(moment) -> str | None:
    return timezone.localtime(moment).date().isoformat() if moment is not None else None


def _room(statement: StatementOfReasons):
    if statement.message is not None:
        return statement.message.room
    if statement.sanction is not None:
        return statement.sanction.room
    return None


def _decision(statement: StatementOfReasons) -> dict:
    """The restriction: on the content (visibility), the service or the account."""
    measure = statement.measure
    end = _day(statement.ends_at)
    if measure in CONTENT_MEASURES:
        return {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}
    # A ban with a purge restricts the account and the content: one decision.
    purged = (
        {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}
        if statement.purge_hours is not None and statement.purged_messages
        else {}
    )
    return {**purged, **_restriction(statement, measure, end)}


def _restriction(statement: StatementOfReasons, measure: str, end) -> dict:
    """The restriction of a measure on the account or the service."""
    site_wide = statement.sanction is not None and statement.sanction.room_id is None
    if measure == Measure.BAN and site_wide:
        return {
            "decision_account": "DECISION_ACCOUNT_SUSPENDED"
            if end
            else "DECISION_ACCOUNT_TERMINATED",
            "end_date_account_restriction": end,
            "account_type": "ACCOUNT_TYPE_PRIVATE",
        }
    # A mute, a kick, a ban from one room: part of the service, for a time or for good.
    return {
        "decision_provision": (
            "DECISION_PROVISION_PARTIAL_SUSPENSION"
            if end
            else "DECISION_PROVISION_PARTIAL_TERMINATION"
        ),
        "end_date_service_restriction": end,
        "account_type": "ACCOUNT_TYPE_PRIVATE",
    }


def _ground(statement: StatementOfReasons) -> dict:
    provision = statement.cited_provision
    if statement.ground == Ground.ILLEGAL and provision is not None:
        return {
            "decision_ground": DECISION_GROUND_ILLEGAL,
            "decision_ground_reference_url": provision.url,
            "illegal_content_legal_ground": f"{provision.reference} ({provision.title})",
            "illegal_content_explanation": (
                f"Un modérateur a examiné le contenu et l'a jugé illégal au regard de "
                f"{provision.reference} du droit français : {provision.title}."
            ),
            "category_specification": list(provision.keywords),
        }
    rule = statement.cited_rule
    if rule is not None:
        ground = f"Règles de la communauté de Chatsite, règle {rule.code} ({rule.title})"
        url = settings.SITE_URL + rule.get_absolute_url()
    else:
        ground = f"Conditions d'utilisation de Chatsite : {Ground(statement.ground).label}"
        url = settings.SITE_URL + "/terms/"
    return {
        "decision_ground": DECISION_GROUND_INCOMPATIBLE,
        "decision_ground_reference_url": url,
        "incompatible_content_ground": ground[:500],
        "incompatible_content_explanation": (
            f"Le contenu ou le comportement enfreint {ground}, qui fait partie des "
            f"conditions d'utilisation acceptées par chaque membre."
        )[:2000],
        # An automatic filter that rests on the law without a provision cites R11.
        "incompatible_content_illegal": "Yes" if statement.ground == Ground.ILLEGAL else "No",
    }


def _facts(statement: StatementOfReasons) -> str:
    room = _room(statement)
    where = WHERE_WORDS.get(room.kind, "") if room is not None else "sur tout le site"
    if statement.is_fully_automated:
        how = "Décision prise automatiquement par un filtre."
    elif statement.automated_detection:
        how = "Contenu détecté par un filtre automatique, décision prise par un modérateur."
    else:
        how = "Décision prise par un modérateur."
    # The order's reference is left out: the database is public.
    source = (
        "sur injonction d'une autorité"
        if statement.order_reference
        else SOURCE_WORDS[statement.source_type]
    )
    return f"{MEASURE_WORDS[statement.measure]} {where}, {source}. {how}"


def submission(statement: StatementOfReasons) -> dict:
    """The statement as the database's API takes it (before validation)."""
    with translation.override("fr"):
        body = {
            **_decision(statement),
            **_ground(statement),
            "content_type": ["CONTENT_TYPE_TEXT"],
            "category": statement.category,
            "territorial_scope": list(statement.territorial_scope or EEA_COUNTRIES),
            "content_date": _day(statement.content_date or statement.starts_at),
            "application_date": _day(statement.starts_at),
            "decision_facts": _facts(statement),
            "source_type": statement.source_type,
            "automated_detection": "Yes" if statement.automated_detection else "No",
            "automated_decision": AUTOMATED_DECISION_API[statement.automated_decision],
            "puid": puid(statement),
        }
    if not body.get("category_specification"):
        body.pop("category_specification", None)
    return body


def statements_in(period) -> Iterator[StatementOfReasons]:
    """The period's statements the database takes, oldest first. One an authority's
    order kept secret is left out while it is (the database is public) and goes
    into the period in which it was disclosed."""
    return (
        StatementOfReasons.objects.disclosed()
        .filter(measure__in=EXPORTED_MEASURES)
        .filter(
            Q(disclosed_at__isnull=True, **period.filter("created"))
            | Q(**period.filter("disclosed_at"))
        )
        .select_related("sanction__room", "message__room")
        .order_by("created", "pk")
        .iterator(chunk_size=500)
    )


def export_lines(period) -> Iterator[str]:
    """One validated JSON line per statement; InvalidSubmission on the first that fails."""
    for statement in statements_in(period):
        body = validate(statement.pk, submission(statement))
        yield json.dumps(body, ensure_ascii=False, sort_keys=True)
