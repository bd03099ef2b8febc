"""Authority orders other than requisitions: removal (DSA Art. 9, terrorist content,
LCEN art. 6-1), preservation (CPP, EU), EU production; deadlines by kind, secrecy,
effect through moderation and legal holds, alerts, audit, permissions
(docs/compliance.md, "Orders from authorities"). Time is moved, never waited for."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import ConnectionRecord
from audit.events import AuditEvent
from compliance import actions, orders
from compliance.models import LegalRequest, LegalRequestStatus, OrderKind
from core.refusals import RefusalCode, Refused
from moderation.dsa import SourceType
from moderation.models import Ground, Measure, StatementOfReasons
from rooms.models import ContentOperation
from tests.compliance.conftest import audit_entries, verified_client

CHANGELIST = "/admin/compliance/legalrequest/"
ALERTS = Path(settings.BASE_DIR) / "deploy" / "prometheus" / "alerts.yml"


@pytest.fixture
def author(make_user):
    return make_user("tarik")


@pytest.fixture
def post(make_room, make_message, author):
    room = make_room("general")
    return make_message(room, author, "contenu visé par l'injonction")


@pytest.fixture
def open_order(officer):
    counter = iter(range(1, 1_000_000))

    def open_(kind, *, received_at=None, **fields):
        values = {
            "reference": f"INJ-2026-{next(counter):04d}",
            "authority": "OCLCTIC (PHAROS)",
            "legal_basis": "other",
            "legal_basis_detail": "injonction",
            "received_at": received_at or timezone.now(),
            "assigned_officer": officer,
            "kind": kind,
        }
        if kind in (OrderKind.EU_PRODUCTION, OrderKind.DATA_REQUEST):
            values["period_start"] = timezone.now() - timedelta(days=30)
            values["period_end"] = timezone.now()
        values.update(fields)
        return actions.do_open_legal_request(actor=officer, **values)

    return open_


# --- deadlines, computed per kind from the receipt ------------------------------------------


RECEIVED = timezone.make_aware(timezone.datetime(2026, 12, 7, 9, 0))


@pytest.mark.parametrize(
    ("kind", "emergency", "expected"),
    [
        (OrderKind.REMOVAL_TERRORIST, False, timedelta(hours=1)),
        (OrderKind.REMOVAL_LCEN, False, timedelta(hours=24)),
        (OrderKind.EU_PRODUCTION, False, timedelta(days=10)),
        (OrderKind.EU_PRODUCTION, True, timedelta(hours=8)),
        (OrderKind.EU_PRESERVATION, False, timedelta(hours=24)),
        (OrderKind.PRESERVATION, False, timedelta(hours=24)),
    ],
)
def test_the_law_fixes_the_deadline_from_the_receipt(kind, emergency, expected):
    assert orders.compute_deadline(kind, RECEIVED, emergency=emergency) == RECEIVED + expected


def test_an_order_may_shorten_the_legal_deadline_never_lengthen_it():
    sooner, later = RECEIVED + timedelta(minutes=30), RECEIVED + timedelta(hours=5)
    terrorist = OrderKind.REMOVAL_TERRORIST
    assert orders.compute_deadline(terrorist, RECEIVED, stated=sooner) == sooner
    assert orders.compute_deadline(terrorist, RECEIVED, stated=later) == RECEIVED + timedelta(
        hours=1
    )


@pytest.mark.parametrize("kind", [OrderKind.REMOVAL_ART9, OrderKind.DATA_REQUEST])
def test_art_9_orders_and_requisitions_carry_their_own_deadline(kind):
    stated = RECEIVED + timedelta(days=3)
    assert orders.compute_deadline(kind, RECEIVED, stated=stated) == stated
    with pytest.raises(ValueError):
        orders.compute_deadline(kind, RECEIVED)


def test_only_an_eu_production_order_has_an_emergency():
    with pytest.raises(ValueError):
        orders.compute_deadline(OrderKind.REMOVAL_LCEN, RECEIVED, emergency=True)
    assert orders.is_short(OrderKind.EU_PRODUCTION, emergency=True)
    assert not orders.is_short(OrderKind.EU_PRODUCTION)
    assert orders.is_short(OrderKind.REMOVAL_TERRORIST)
    assert not orders.is_short(OrderKind.REMOVAL_ART9)


def test_preservation_ends_after_60_days_or_the_orders_own_term():
    assert orders.preservation_end(OrderKind.EU_PRESERVATION, RECEIVED, None) == RECEIVED + (
        timedelta(days=60)
    )
    assert orders.preservation_end(OrderKind.PRESERVATION, RECEIVED, 90) == RECEIVED + timedelta(
        days=90
    )


def test_registering_computes_the_deadline_and_pages_by_mail(
    open_order, post, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.COMPLIANCE_ORDER_ALERT_EMAIL = "astreinte@chatsite.example"
    received = timezone.now() - timedelta(minutes=20)
    with django_capture_on_commit_callbacks(execute=True):
        order = open_order(OrderKind.REMOVAL_TERRORIST, received_at=received, contents=[post])
    assert order.deadline == received + timedelta(hours=1)
    assert order.legal_provision == "CP-421-2-5"  # the terrorist offence by default
    assert order.deadline_is_near and not order.is_overdue
    [mail] = mailoutbox
    assert mail.to == ["astreinte@chatsite.example"]
    assert order.reference in mail.subject
    (entry,) = audit_entries(AuditEvent.LEGAL_REQUEST_OPENED)
    assert entry.details["kind"] == "removal_terrorist"
    assert entry.details["contents"] == [post.pk]
    assert entry.details["deadline"] == order.deadline.isoformat()


def test_a_long_deadline_sends_no_page(
    open_order, author, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = open_order(OrderKind.EU_PRODUCTION, accounts=[author], data_categories=["identity"])
    assert order.deadline == order.received_at + timedelta(days=10)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        urgent = open_order(
            OrderKind.EU_PRODUCTION, accounts=[author], data_categories=["identity"], emergency=True
        )
    assert urgent.deadline == urgent.received_at + timedelta(hours=8)
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": OrderKind.REMOVAL_ART9}, "échéance"),  # no deadline of its own
        ({"kind": OrderKind.REMOVAL_LCEN, "legal_provision": "CP-222-17"}, "LCEN"),
        ({"kind": OrderKind.REMOVAL_LCEN, "contents": []}, "messages"),
        ({"kind": OrderKind.DATA_REQUEST, "emergency": True}, "urgence"),
        ({"kind": OrderKind.PRESERVATION, "preserve_days": 400}, "60-2"),
        ({"kind": OrderKind.REMOVAL_LCEN, "secret": True}, "confidentialité"),
    ],
)
def test_what_each_kind_needs_is_checked(open_order, post, fields, message):
    values = {"contents": [post], "legal_provision": "CP-227-23", **fields}
    if values["kind"] in (OrderKind.PRESERVATION, OrderKind.DATA_REQUEST):
        values.pop("contents")
        values["accounts"] = [post.author]
        values["data_categories"] = ["identity"]
        values.setdefault("deadline", timezone.now() + timedelta(days=5))
    with pytest.raises(Refused) as refused:
        open_order(**values)
    assert refused.value.code == RefusalCode.INVALID
    assert message in refused.value.detail
    assert not LegalRequest.objects.exists()


# --- a removal order, carried out through moderation ---------------------------------------


def test_a_removal_order_hides_the_content_through_moderation(
    open_order, officer, post, author, mailoutbox, django_capture_on_commit_callbacks
):
    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-227-23")
    with django_capture_on_commit_callbacks(execute=True):
        order = actions.do_give_effect_to_order(order, actor=officer)
    post.refresh_from_db()
    assert post.deleted_at is not None and post.deleted_by == officer
    assert order.reference in post.deletion_reason
    # rooms' own write path recorded the deletion (décret 2021-1362).
    assert ContentOperation.objects.filter(content_id=post.pk, kind="delete").exists()
    statement = StatementOfReasons.objects.get(message=post)
    assert statement.user == author
    assert statement.measure == Measure.REMOVAL
    assert statement.ground == Ground.ILLEGAL
    assert statement.legal_provision == "CP-227-23"
    assert statement.source_type == SourceType.OTHER_NOTIFICATION
    assert statement.order_reference == order.reference
    assert not statement.withheld
    assert "227-23" in statement.explanation
    # The member is told (no confidentiality asked) and reads it on "Mes décisions".
    assert [mail.to for mail in mailoutbox] == [[author.email]]
    member = verified_client(author, otp_verified=False)
    assert statement.get_absolute_url() in member.get("/decisions/").content.decode()
    # What was done and when, for the authority.
    assert order.status == LegalRequestStatus.EFFECTED
    assert order.taken_effect_at is not None and not order.is_overdue
    assert order.effect["removed"] == [
        {
            "message": post.pk,
            "removed_at": post.deleted_at.isoformat(),
            "statement": statement.pk,
            "statement_withheld": False,
        }
    ]
    (removed,) = audit_entries(AuditEvent.MESSAGE_REMOVED)
    assert removed.details["order"] == order.reference
    (effect,) = audit_entries(AuditEvent.ORDER_EFFECT_GIVEN)
    assert effect.actor_id == officer.pk
    assert effect.details["removed"][0]["message"] == post.pk
    assert effect.details["late"] is False
    # The authority is then told (Art. 9(1)).
    order = actions.do_answer_legal_request(order, actor=officer, note="courriel à PHAROS")
    assert order.status == LegalRequestStatus.ANSWERED
    assert order.effect["report_note"] == "courriel à PHAROS"
    assert order.effect["reported_at"] == order.answered_at.isoformat()


def test_a_removal_order_is_not_answered_by_a_package(open_order, officer, post, tmp_path):
    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-421-2-5")
    actions.do_verify_legal_request(order, actor=officer)
    with pytest.raises(Refused) as refused:
        actions.do_export_legal_request(order, actor=officer, out_dir=tmp_path)
    assert refused.value.code == RefusalCode.INVALID_STATUS


def test_content_already_hidden_is_reported_as_such(
    open_order, officer, post, django_capture_on_commit_callbacks
):
    from moderation.actions import do_remove_message

    do_remove_message(post, actor=officer, reason="hors sujet", clause="R1")
    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-421-2-5")
    order = actions.do_give_effect_to_order(order, actor=officer)
    assert order.effect["removed"] == [] and order.effect["already_removed"] == [post.pk]
    assert order.effect["not_found"] == []


def test_terrorist_content_is_kept_six_months_after_its_removal(open_order, officer, post, author):
    order = open_order(OrderKind.REMOVAL_TERRORIST, contents=[post])
    order = actions.do_give_effect_to_order(order, actor=officer)
    hold = order.holds.get(user=author)
    assert hold.is_active
    assert hold.expires_at - order.taken_effect_at == timedelta(days=183)


# --- secrecy: the member is not told until it ends -----------------------------------------


def _member_sees(client, statement) -> bool:
    page = client.get("/decisions/").content.decode()
    detail = client.get(statement.get_absolute_url()).status_code
    exported = client.get("/api/me/export/").json()["statements_of_reasons"]
    return statement.get_absolute_url() in page or detail == 200 or bool(exported)


def test_a_confidential_order_tells_the_member_nothing_until_the_secrecy_ends(
    open_order, officer, post, author, mailoutbox, django_capture_on_commit_callbacks
):
    from compliance.dsa_export import statements_in, submission, validate
    from compliance.transparency import Period
    from moderation.actions import do_file_appeal

    order = open_order(
        OrderKind.REMOVAL_ART9,
        contents=[post],
        legal_provision="CP-421-2-5",
        deadline=timezone.now() + timedelta(hours=12),
        secret=True,
        secrecy_reason="Demande du juge d'instruction, cote D12",
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_give_effect_to_order(order, actor=officer)
    statement = StatementOfReasons.objects.get(message=post)
    assert statement.withheld and statement.disclosed_at is None
    assert mailoutbox == []
    member = verified_client(author, otp_verified=False)
    assert not _member_sees(member, statement)
    assert "Mes décisions" not in member.get("/rooms/").content.decode()
    with pytest.raises(Refused):
        do_file_appeal(statement, actor=author, text="je conteste")
    today = timezone.localdate()
    assert statement not in list(statements_in(Period(today, today)))

    with django_capture_on_commit_callbacks(execute=True):
        disclosed = actions.do_lift_order_secrecy(
            order, actor=officer, reason="Levée par le juge, courrier du 7/12"
        )
    assert disclosed == [statement.pk]
    statement.refresh_from_db()
    order.refresh_from_db()
    assert not statement.withheld and statement.disclosed_at == order.secrecy_lifted_at
    # The appeal window runs from the day the member is told.
    assert statement.appeal_until - statement.disclosed_at == timedelta(days=183)
    assert [mail.to for mail in mailoutbox] == [[author.email]]
    assert _member_sees(member, statement)
    assert statement in list(statements_in(Period(today, today)))
    body = validate(statement.pk, submission(statement))  # the database's schema
    assert body["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    assert order.reference not in json.dumps(body)  # public: no order reference
    (entry,) = audit_entries(AuditEvent.ORDER_SECRECY_LIFTED)
    assert entry.actor_id == officer.pk
    assert entry.details["statements_disclosed"] == [statement.pk]


def test_a_confidentiality_with_an_end_is_lifted_by_process_orders(
    open_order, officer, post, author, mailoutbox, django_capture_on_commit_callbacks
):
    until = timezone.now() + timedelta(days=42)
    order = open_order(
        OrderKind.REMOVAL_TERRORIST,
        contents=[post],
        secret=True,
        secrecy_reason="Règlement 2021/784, art. 11(3) : six semaines",
        secrecy_until=until,
    )
    actions.do_give_effect_to_order(order, actor=officer)
    assert actions.do_process_orders()["secrecy_lifted"] == {}
    with django_capture_on_commit_callbacks(execute=True):
        done = actions.do_process_orders(now=until + timedelta(minutes=5))
    statement = StatementOfReasons.objects.get(message=post)
    assert done["secrecy_lifted"] == {order.pk: [statement.pk]}
    assert not statement.withheld
    assert [mail.to for mail in mailoutbox] == [[author.email]]
    (entry,) = audit_entries(AuditEvent.ORDER_SECRECY_LIFTED)
    assert entry.actor_id is None


# --- preservation: legal holds for the right period ----------------------------------------


def test_an_eu_preservation_order_holds_data_against_the_purge_for_60_days(
    open_order, officer, author, make_user, make_connection
):
    bystander = make_user("zoe")
    old = timezone.now() - timedelta(days=400)
    kept = make_connection(author, created=old)
    purged = make_connection(bystander, created=old)
    order = open_order(OrderKind.EU_PRESERVATION, accounts=[author])
    assert not order.holds.exists()  # placed when carried out
    order = actions.do_give_effect_to_order(order, actor=officer)
    (hold,) = order.holds.all()
    assert hold.expires_at == order.received_at + timedelta(days=60)
    actions.do_purge_expired(actor=None)
    assert ConnectionRecord.objects.filter(pk=kept.pk).exists()
    assert not ConnectionRecord.objects.filter(pk=purged.pk).exists()

    # Past its term the hold ends, recorded, and the purge applies again.
    done = actions.do_process_orders(now=hold.expires_at + timedelta(minutes=1))
    assert done["holds_expired"] == [hold.pk]
    hold.refresh_from_db()
    assert hold.released_at == hold.expires_at
    (entry,) = audit_entries(AuditEvent.LEGAL_HOLD_EXPIRED)
    assert entry.details["request"] == order.pk


def test_an_expired_hold_protects_nothing_even_before_it_is_recorded(
    open_order, officer, author, make_connection
):
    from compliance.queries import held_user_ids

    order = open_order(OrderKind.EU_PRESERVATION, accounts=[author])
    order = actions.do_give_effect_to_order(order, actor=officer)
    hold = order.holds.get()
    assert author.pk in held_user_ids()
    hold.expires_at = timezone.now() - timedelta(seconds=1)
    hold.save(update_fields=["expires_at"])
    assert author.pk not in held_user_ids()


def test_an_eu_preservation_is_extended_once_or_confirmed(open_order, officer, author):
    order = open_order(OrderKind.EU_PRESERVATION, accounts=[author])
    order = actions.do_give_effect_to_order(order, actor=officer)
    end = order.holds.get().expires_at
    actions.do_extend_preservation(order, actor=officer, reason="demande du 1er février")
    assert order.holds.get().expires_at == end + timedelta(days=30)
    with pytest.raises(Refused) as refused:
        actions.do_extend_preservation(order, actor=officer, reason="encore")
    assert refused.value.code == RefusalCode.CONFLICT
    actions.do_confirm_preservation(order, actor=officer, reason="EPOC n° 12 émis")
    assert order.holds.get().expires_at is None
    assert len(audit_entries(AuditEvent.PRESERVATION_EXTENDED)) == 1
    assert len(audit_entries(AuditEvent.PRESERVATION_CONFIRMED)) == 1


def test_a_national_preservation_lasts_the_orders_term(open_order, officer, author, make_room):
    room = make_room("prive")
    order = open_order(OrderKind.PRESERVATION, accounts=[author], rooms=[room], preserve_days=90)
    order = actions.do_give_effect_to_order(order, actor=officer)
    assert {hold.expires_at for hold in order.holds.all()} == {
        order.received_at + timedelta(days=90)
    }
    assert order.holds.count() == 2


# --- the metric and the alert rule, evaluated on real data ----------------------------------


_RULE = re.compile(r"^sum\((\w+)(?:\{(\w+)=\"(\w+)\"\})?\) > (\d+)$")


def _alert_fires(name: str, exposition: str) -> bool:
    """Evaluates the rule `name` of deploy/prometheus/alerts.yml, of the form
    sum(metric{label="value"}) > N, against a scrape of /metrics."""
    # One-line expressions only (no YAML parser among the dependencies).
    rules = dict(re.findall(r"- alert: (\w+)\n(?:\s+#.*\n)*\s+expr: (.+)\n", ALERTS.read_text()))
    metric, label, wanted, threshold = _RULE.match(rules[name]).groups()
    total = sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == metric
        for sample in family.samples
        if label is None or sample.labels.get(label) == wanted
    )
    return total > int(threshold)


def test_a_short_deadline_order_pages_until_it_is_carried_out(
    open_order, officer, post, make_staff
):
    scraper = verified_client(make_staff("admin"))

    def scrape() -> str:
        return scraper.get("/metrics").content.decode()

    assert not _alert_fires("ChatsiteShortDeadlineOrderOpen", scrape())
    order = open_order(OrderKind.REMOVAL_TERRORIST, contents=[post])
    exposition = scrape()
    assert 'chatsite_authority_orders_open{kind="removal_terrorist",urgency="short"} 1.0' in (
        exposition
    )
    assert _alert_fires("ChatsiteShortDeadlineOrderOpen", exposition)
    assert not _alert_fires("ChatsiteAuthorityOrderOverdue", exposition)
    actions.do_give_effect_to_order(order, actor=officer)
    assert not _alert_fires("ChatsiteShortDeadlineOrderOpen", scrape())


def test_an_order_past_its_deadline_pages(open_order, post, make_staff):
    scraper = verified_client(make_staff("admin"))
    open_order(
        OrderKind.REMOVAL_LCEN,
        contents=[post],
        legal_provision="CP-421-2-5",
        received_at=timezone.now() - timedelta(hours=25),
    )
    exposition = scraper.get("/metrics").content.decode()
    assert _alert_fires("ChatsiteAuthorityOrderOverdue", exposition)
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    (nearest,) = families["chatsite_authority_order_next_deadline_seconds"].samples
    assert nearest.labels == {"urgency": "short"} and nearest.value < 0


# --- permissions, through the actions and the back office ----------------------------------


def test_a_moderator_can_neither_register_nor_carry_out_an_order(
    moderator, officer, open_order, post
):
    with pytest.raises(Refused) as refused:
        actions.do_open_legal_request(
            reference="INJ-X",
            authority="OCLCTIC",
            legal_basis="other",
            legal_basis_detail="LCEN",
            received_at=timezone.now(),
            assigned_officer=officer,
            kind=OrderKind.REMOVAL_LCEN,
            contents=[post],
            legal_provision="CP-421-2-5",
            actor=moderator,
        )
    assert refused.value.code == RefusalCode.FORBIDDEN
    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-421-2-5")
    for attempt in (
        lambda: actions.do_give_effect_to_order(order, actor=moderator),
        lambda: actions.do_acknowledge_order(order, actor=moderator),
    ):
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.code == RefusalCode.FORBIDDEN
    post.refresh_from_db()
    assert post.deleted_at is None
    assert len(audit_entries(AuditEvent.STAFF_ATTEMPT_REFUSED)) == 3
    client = verified_client(moderator)
    for url in (f"{CHANGELIST}add/", f"{CHANGELIST}{order.pk}/do/effect/"):
        assert client.post(url).status_code == 403, url
    post.refresh_from_db()
    assert post.deleted_at is None


def test_an_otp_verified_officer_registers_and_carries_out_a_removal_in_the_admin(officer, post):
    unverified = verified_client(officer, otp_verified=False)
    assert unverified.get(f"{CHANGELIST}add/").status_code == 302  # to the OTP login
    client = verified_client(officer)
    assert client.post(CHANGELIST, {"access_reason": "Injonction PHAROS du jour"}).status_code == (
        302
    )
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "reference": "OCLCTIC-2026-77",
            "kind": "removal_terrorist",
            "authority": "OCLCTIC",
            "legal_basis": "other",
            "legal_basis_detail": "Règlement (UE) 2021/784",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "contents": str(post.pk),
            "assigned_officer": officer.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    order = LegalRequest.objects.get(reference="OCLCTIC-2026-77")
    assert order.deadline - order.received_at == timedelta(hours=1)
    page = client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    assert "Règlement (UE) 2021/784, art. 3(3)" in page
    assert "reste" in page
    client.post(f"{CHANGELIST}{order.pk}/do/acknowledge/", {"reason": "courriel"})
    client.post(f"{CHANGELIST}{order.pk}/do/effect/")
    order.refresh_from_db()
    post.refresh_from_db()
    assert order.acknowledged_at is not None
    assert order.status == LegalRequestStatus.EFFECTED and post.deleted_at is not None
    assert len(audit_entries(AuditEvent.ORDER_ACKNOWLEDGED)) == 1


# --- the transparency report: orders by kind, median time to act ---------------------------


def test_the_transparency_report_counts_orders_and_their_times(open_order, officer, post, author):
    from compliance.transparency import Period, build_report

    received = timezone.now() - timedelta(hours=3)
    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-421-2-5",
                       received_at=received)  # fmt: skip
    actions.do_acknowledge_order(order, actor=officer)
    actions.do_give_effect_to_order(order, actor=officer)
    open_order(OrderKind.EU_PRESERVATION, accounts=[author])
    today = timezone.localdate()
    report = build_report(Period(today - timedelta(days=1), today))
    art9 = report["template"]["orders_art9"]
    assert art9["received"] == 1
    assert art9["received_by_kind"]["removal_lcen"] == 1
    assert art9["received_by_category"]["STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"] == 1
    assert 2.9 < art9["median_hours_to_give_effect"] < 3.1
    assert 2.9 < art9["median_hours_to_acknowledge"] < 3.1
    assert report["template"]["orders_art10"]["received"] == 0
    # The removal on an order is not an action on a notice.
    assert sum(report["template"]["notices_art16"]["actions_by_category"].values()) == 0
    overview = report["legal_requests"]
    assert overview["by_kind"]["removal_lcen"] == overview["by_kind"]["eu_preservation"] == 1
    assert overview["carried_out"] == 1 and overview["carried_out_late"] == 0


def test_a_removal_on_an_order_is_not_undone_by_an_internal_appeal(
    open_order, officer, post, author, make_staff
):
    from moderation.actions import do_decide_appeal, do_file_appeal

    order = open_order(OrderKind.REMOVAL_LCEN, contents=[post], legal_provision="CP-421-2-5")
    actions.do_give_effect_to_order(order, actor=officer)
    statement = StatementOfReasons.objects.get(message=post)
    assert order.reference in statement.redress and "juridictions" in statement.redress
    appeal = do_file_appeal(statement, actor=author, text="ce n'est pas de l'apologie")
    reviewer = make_staff("moderator")
    with pytest.raises(Refused) as refused:
        do_decide_appeal(appeal, actor=reviewer, reverse_decision=True, answer="rétabli")
    assert refused.value.code == RefusalCode.CONFLICT
    post.refresh_from_db()
    assert post.deleted_at is not None
    appeal = do_decide_appeal(
        appeal, actor=reviewer, reverse_decision=False, answer="injonction : voir les juridictions"
    )
    assert appeal.status == "upheld"


def test_the_back_office_shows_time_left_overdue_and_secrecy(open_order, officer, post, author):
    late = open_order(
        OrderKind.REMOVAL_LCEN,
        contents=[post],
        legal_provision="CP-421-2-5",
        received_at=timezone.now() - timedelta(hours=30),
        secret=True,
        secrecy_reason="Secret de l'enquête, PV 12",
    )
    preservation = open_order(OrderKind.EU_PRESERVATION, accounts=[author])
    actions.do_give_effect_to_order(preservation, actor=officer)
    client = verified_client(officer)
    client.post(CHANGELIST, {"access_reason": "Suivi des injonctions en cours"})
    listing = client.get(CHANGELIST).content.decode()
    assert "en retard de 6 h" in listing
    page = client.get(f"{CHANGELIST}{late.pk}/change/").content.decode()
    assert "En retard" in page and "🔒" in page and "Secret de l&#x27;enquête, PV 12" in page
    response = client.post(
        f"{CHANGELIST}{late.pk}/do/lift_secrecy/", {"reason": "Levée par le parquet"}
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.secrecy_lifted_at is not None
    page = client.get(f"{CHANGELIST}{preservation.pk}/change/").content.decode()
    assert "Prolonger de 30 jours" in page and "Exporter le paquet" not in page
