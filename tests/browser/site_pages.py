"""A small, realistic site and the list of its pages, for the page-by-page browser checks.

The accessibility test, the screenshots and `bench/ux_budget.py` all need the same
thing: a room with a conversation in it, a direct conversation, a report waiting in
the moderation queue, a decision with its statement of reasons, and sessions for a
member and an OTP-verified administrator. `populate_site()` makes them through the
project's own actions; it runs before any browser starts (Django refuses synchronous
queries while Playwright's event loop runs). `site_pages()` then lists every page by
URL name, so a page added to the URLconf later is checked as soon as it is named here
or linked from the footer (the accessibility test also follows the footer's links).
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

MEMBER = "camille"
OTHER = "dominique"
STAFF = "equipe"
ROOM_SLUG = "general"

CONVERSATION = [
    (OTHER, "Bonjour à tous ! Quelqu'un a vu le match hier soir ?"),
    (MEMBER, "Oui, quelle fin de partie ! Le dernier essai était incroyable."),
    (OTHER, "J'ai failli ne pas y croire. Vous le revoyez où, le prochain ?"),
    (MEMBER, "Chez des amis, sûrement. Et vous ?"),
    (OTHER, "Au bar du quartier, l'ambiance y est toujours bonne."),
    (MEMBER, "Bonne idée, je passerai peut-être !"),
]


@dataclass
class Site:
    member_session: str
    staff_session: str
    room_slug: str
    report_id: int
    statement_id: int
    member_report_id: int
    ids: dict = field(default_factory=dict)


# The model whose list the staff session has stated no reason for: its page is the
# reason form itself ("legal-requests-reason" below). Every other model is granted,
# so the staff pages show what they show after a reason (audit/looks.py).
UNGRANTED_MODEL = "audit.auditentry"


def session_of(user, *, otp_verified: bool = False, grant_looks: bool = False) -> str:
    """A signed-in session's cookie value; `otp_verified` as after the admin's TOTP step;
    `grant_looks`: a reason already stated for every admin model but UNGRANTED_MODEL."""
    from django.conf import settings
    from django.contrib import admin

    from tests.conftest import grant_looks as grant
    from tests.conftest import staff_client

    client = staff_client(user, otp_verified=otp_verified)
    if grant_looks:
        labels = [model._meta.label_lower for model in admin.site._registry]
        # For the whole run, however long the browsers take.
        granted = (label for label in labels if label != UNGRANTED_MODEL)
        grant(client, *granted, seconds=24 * 3600)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def make_verified_adult(username: str):
    """A member who may chat: e-mail confirmed, age attested (as tests' make_user)."""
    import datetime

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import AgeVerificationMethod

    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password="correct-horse-battery-staple-42",
        date_of_birth=datetime.date(1990, 1, 1),
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    user.age_verified_at = timezone.now()
    user.age_verification_method = AgeVerificationMethod.ATTESTATION
    user.save(update_fields=["age_verified_at", "age_verification_method"])
    return user


def populate_site() -> Site:
    """The demo-like content of the checked pages, made through the real actions."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.actions import do_create_staff_account
    from moderation import actions as moderation
    from rooms import actions
    from rooms.models import RoomKind

    room = actions.do_create_room(
        actor=None,
        kind=RoomKind.PUBLIC,
        slug=ROOM_SLUG,
        name="Général",
        description="Pour faire connaissance et parler de tout, dans le respect des règles.",
    )
    actions.do_create_room(
        actor=None,
        kind=RoomKind.PUBLIC,
        slug="sport",
        name="Sport",
        description="Matchs, entraînements et résultats du week-end.",
    )
    member, other = make_verified_adult(MEMBER), make_verified_adult(OTHER)
    users = {MEMBER: member, OTHER: other}
    messages = [
        actions.do_post_message(room, body, actor=users[author]).message
        for author, body in CONVERSATION
    ]
    direct = actions.do_open_direct_room(other, actor=member)
    actions.do_post_message(direct, "Salut ! On se retrouve dans Général ce soir ?", actor=member)
    # A private room of the member's, where the other mentions them (a notification).
    club = actions.do_create_room(actor=member, kind=RoomKind.PRIVATE, slug="club", name="Club")
    actions.do_invite_to_room(club, other, actor=member)
    actions.do_answer_invitation(club.invitations.get(), actor=other, accept=True)
    actions.do_post_message(club, f"@{MEMBER} tu as vu le programme ?", actor=other)

    staff = do_create_staff_account(
        STAFF,
        email="equipe@staff.example",
        role="admin",
        password="staff-pass-a11y-4d2",
        actor=None,
    )
    EmailAddress.objects.filter(user=staff.user).update(verified=True)
    staff.user.age_verified_at = timezone.now()
    staff.user.save(update_fields=["age_verified_at"])

    # A report waiting in the queue, one filed by the member, and a decision about them.
    report = moderation.do_file_report(
        actor=other, category="harassment", details="Messages insistants.", message=messages[1]
    )
    member_report = moderation.do_file_report(
        actor=member, category="spam", details="Publicité.", message=messages[0]
    )
    moderation.do_issue_sanction(
        member, actor=staff.user, kind="warn", reason="Rappel : restez courtois envers chacun."
    )
    from moderation.models import StatementOfReasons

    statement = StatementOfReasons.objects.filter(user=member).latest("created")
    # A published transparency report (a closed period: yesterday) for /transparency/.
    from datetime import timedelta

    from compliance.actions import do_publish_transparency_report

    yesterday = timezone.localdate() - timedelta(days=1)
    published = do_publish_transparency_report(
        yesterday.replace(day=1) if yesterday.day > 1 else yesterday, yesterday, actor=staff.user
    )
    return Site(
        member_session=session_of(member),
        staff_session=session_of(staff.user, otp_verified=True, grant_looks=True),
        room_slug=ROOM_SLUG,
        report_id=report.pk,
        statement_id=statement.pk,
        member_report_id=member_report.pk,
        ids={"transparency_report": published.get_absolute_url()},
    )


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# Pages that other parts of the site may or may not define yet (issue 9's content
# pages): checked whenever their URL name exists.
OPTIONAL_ANONYMOUS = [
    "offline",
    "rules",
    "terms",
    "legal_notice",
    "legal",
    "privacy",
    "authorities",
    "transparency",
    "pages:rules",
    "pages:terms",
    "pages:legal_notice",
    "pages:legal",
    "pages:privacy",
    "pages:authorities",
    "content:rules",
    "content:terms",
    "content:legal",
    "content:privacy",
    "content:authorities",
]


def site_pages(site: Site) -> dict[str, list[tuple[str, str]]]:
    """Every page to check, as (label, path), for each kind of visitor."""
    anonymous = [
        ("home", reverse("home")),
        ("login", reverse("account_login")),
        ("signup", reverse("account_signup")),
        ("password-reset", reverse("account_reset_password")),
        ("notice", reverse("moderation:notice")),
    ]
    for name in OPTIONAL_ANONYMOUS:
        path = _url(name)
        if path and path not in {p for _, p in anonymous}:
            anonymous.append((name.rsplit(":", 1)[-1], path))
    if "transparency_report" in site.ids:
        anonymous.append(("transparency-report", site.ids["transparency_report"]))
    member = [
        ("rooms", reverse("rooms:list")),
        ("room", reverse("rooms:room", args=[site.room_slug])),
        ("dm", reverse("rooms:direct", args=[OTHER])),
        ("conversations", reverse("rooms:conversations")),
        ("notifications", reverse("rooms:notifications")),
        ("leave", reverse("rooms:leave", args=["club"])),
        ("members", reverse("rooms:members", args=["club"])),
        ("profile", reverse("accounts_profile")),
        ("age", reverse("accounts_age")),
        ("decisions", reverse("moderation:decisions")),
        ("trust", reverse("moderation:trust")),
        ("decision", reverse("moderation:decision", args=[site.statement_id])),
        ("report-outcome", reverse("moderation:report", args=[site.member_report_id])),
        ("email", reverse("account_email")),
        ("password-change", reverse("account_change_password")),
        ("delete-account", reverse("accounts_delete")),
    ]
    # The tour after age verification: every step (each names a different tool).
    from accounts import views as account_views

    for step in range(1, len(getattr(account_views, "TOUR_STEPS", ())) + 1):
        path = _url("accounts_tour_step", step)
        if path:
            member.append((f"tour-{step}", path))
    staff = [
        ("admin", reverse("admin:index")),
        ("moderation-queue", reverse("admin:moderation_report_changelist")),
        ("report-decide", reverse("admin:moderation_report_decide", args=[site.report_id])),
        ("appeals", reverse("admin:moderation_appeal_changelist")),
        ("compliance-dashboard", reverse("admin:compliance_dashboard")),
        ("legal-requests", reverse("admin:compliance_legalrequest_changelist")),
        # Every page of personal data asks for a reason first (audited access): that page.
        ("audit-trail-reason", reverse("admin:audit_auditentry_changelist")),
    ]
    return {"anonymous": anonymous, "member": member, "staff": staff}
