"""accounts/actions/: each action's state change, its audit row and its after-commit effects.

The flows around them (pages, admin, attestation refusals one by one) are tested in
their own modules; these call the actions directly, as every caller does.
"""

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import actions, staff
from accounts.models import (
    AgeVerificationAttempt,
    AgeVerificationMethod,
    AttestationNonce,
    DirectMessagePolicy,
)
from accounts.models import AgeVerificationRefusal as Refusal
from audit.events import AuditEvent
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def entries(event: AuditEvent) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=event).order_by("seq"))


def current_token(device: TOTPDevice) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def backup_codes(user) -> set[str]:
    device = StaticDevice.objects.get(user=user, name=staff.BACKUP_DEVICE_NAME)
    return set(StaticToken.objects.filter(device=device).values_list("token", flat=True))


# --- Age verification by attestation -----------------------------------------------


def test_issue_attestation_nonce_gives_each_call_a_fresh_unused_challenge(make_user):
    member = make_user("nadia", age_verified=False)
    first = actions.do_issue_attestation_nonce(member, actor=member)
    second = actions.do_issue_attestation_nonce(member, actor=member)
    assert first.nonce != second.nonce and len(first.nonce) >= 32
    assert set(AttestationNonce.objects.filter(user=member).values_list("used_at", flat=True)) == {
        None
    }


def test_verify_age_by_attestation_refuses_a_foreign_session_and_audits_nothing(make_user, issuer):
    member = make_user("paul", age_verified=False)
    challenge = actions.do_issue_attestation_nonce(member, actor=member)
    token = issuer.sign(challenge.nonce)
    result = actions.do_verify_age_by_attestation(
        member, token, session_nonce="another-browser", actor=member
    )
    assert (result.accepted, result.reason) == (False, Refusal.FOREIGN_NONCE)
    member.refresh_from_db()
    assert member.age_verified_at is None
    challenge.refresh_from_db()
    assert challenge.used_at is None  # still usable from the browser that asked for it
    attempt = AgeVerificationAttempt.objects.get(user=member)
    assert (attempt.outcome, attempt.reason) == ("refused", Refusal.FOREIGN_NONCE)
    assert entries(AuditEvent.AGE_VERIFIED_BY_ATTESTATION) == []


# --- Self-service -------------------------------------------------------------------


def test_set_direct_message_policy_changes_who_may_write_first(make_user):
    member = make_user("ines")
    assert member.direct_messages_from != DirectMessagePolicy.NOBODY
    actions.do_set_direct_message_policy(member, DirectMessagePolicy.NOBODY, actor=member)
    member.refresh_from_db()
    assert member.direct_messages_from == DirectMessagePolicy.NOBODY


# --- Staff and their second factor ----------------------------------------------------


def test_totp_enrolment_keeps_one_unconfirmed_device_until_a_right_code_confirms_it(
    make_user, django_capture_on_commit_callbacks
):
    member = make_user("oscar", is_staff=True)
    device = actions.do_start_totp_enrolment(member, actor=member)
    assert actions.do_start_totp_enrolment(member, actor=member) == device
    assert not device.confirmed

    with django_capture_on_commit_callbacks() as callbacks:
        codes = actions.do_confirm_totp_device(device, current_token(device), actor=member)
    assert callbacks == []  # nothing leaves the database
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == staff.BACKUP_CODE_COUNT and set(codes) == backup_codes(member)
    (entry,) = entries(AuditEvent.OTP_DEVICE_CONFIRMED)
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        member.pk,
        "accounts.user",
        str(member.pk),
    )
    # A confirmed device is not confirmed twice (nor its codes replaced).
    assert actions.do_confirm_totp_device(device, current_token(device), actor=member) is None
    assert backup_codes(member) == set(codes)


def test_a_wrong_code_confirms_no_device_and_audits_nothing(make_user):
    member = make_user("pia", is_staff=True)
    device = actions.do_start_totp_enrolment(member, actor=member)
    wrong = f"{(int(current_token(device)) + 1) % 10**device.digits:0{device.digits}d}"
    assert actions.do_confirm_totp_device(device, wrong, actor=member) is None
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=member).exists()
    assert entries(AuditEvent.OTP_DEVICE_CONFIRMED) == []


def test_regenerate_backup_codes_replaces_every_old_code_and_audits_it(make_staff):
    moderator = make_staff("moderator")
    old = backup_codes(moderator)
    assert len(old) == staff.BACKUP_CODE_COUNT
    new = actions.do_regenerate_backup_codes(moderator, actor=moderator)
    assert set(new) == backup_codes(moderator)
    assert not old & set(new)
    (entry,) = entries(AuditEvent.OTP_BACKUP_CODES_REGENERATED)
    assert (entry.actor_id, entry.target_id) == (moderator.pk, str(moderator.pk))


def test_record_staff_sign_in_keeps_the_channel_and_the_address(make_staff):
    moderator = make_staff("moderator")
    actions.do_record_staff_sign_in(
        AuditEvent.STAFF_LOGIN, actor=moderator, target=moderator, ip_address="203.0.113.9"
    )
    actions.do_record_staff_sign_in(
        AuditEvent.STAFF_LOGIN_FAILED,
        actor=None,
        target=None,
        ip_address="198.51.100.7",
        via="site",
    )
    (login,) = entries(AuditEvent.STAFF_LOGIN)
    assert (login.actor_id, login.target_id, login.details, login.ip_address) == (
        moderator.pk,
        str(moderator.pk),
        {"via": "admin"},
        "203.0.113.9",
    )
    (failed,) = entries(AuditEvent.STAFF_LOGIN_FAILED)
    assert (failed.actor_id, failed.actor_label, failed.target_type, failed.target_id) == (
        None,
        "system",
        "",
        "",
    )
    assert (failed.details, failed.ip_address) == ({"via": "site"}, "198.51.100.7")


def test_create_staff_account_gives_role_device_codes_and_an_audit_row():
    account = actions.do_create_staff_account(
        "camille", email="camille@staff.example", role="compliance", password="x" * 16, actor=None
    )
    user = get_user_model().objects.get(username="camille")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [
        staff.ROLE_GROUPS[staff.StaffRole.COMPLIANCE]
    ]
    assert account.totp_device.confirmed
    assert set(account.backup_codes) == backup_codes(user)
    (entry,) = entries(AuditEvent.STAFF_ACCOUNT_CREATED)
    assert (entry.actor_id, entry.target_id, entry.details) == (
        None,
        str(user.pk),
        {"role": "compliance"},
    )


def test_age_verified_by_attestation_records_method_attempt_and_audit(make_user, issuer):
    member = make_user("lea", age_verified=False)
    challenge = actions.do_issue_attestation_nonce(member, actor=member)
    result = actions.do_verify_age_by_attestation(
        member, issuer.sign(challenge.nonce), session_nonce=challenge.nonce, actor=member
    )
    assert result.accepted
    member.refresh_from_db()
    assert member.age_verified_at is not None
    assert member.age_verification_method == AgeVerificationMethod.ATTESTATION
    challenge.refresh_from_db()
    assert challenge.used_at is not None
    attempt = AgeVerificationAttempt.objects.get(user=member)
    assert (attempt.outcome, attempt.issuer) == ("accepted", result.issuer)
    (entry,) = entries(AuditEvent.AGE_VERIFIED_BY_ATTESTATION)
    assert (entry.actor_id, entry.target_id, entry.details) == (
        member.pk,
        str(member.pk),
        {"issuer": result.issuer},
    )
    # The same token again is a replay: refused, and audited no further.
    again = actions.do_verify_age_by_attestation(
        member, issuer.sign(challenge.nonce), session_nonce=challenge.nonce, actor=member
    )
    assert (again.accepted, again.reason) == (False, Refusal.REPLAYED_NONCE)
    assert len(entries(AuditEvent.AGE_VERIFIED_BY_ATTESTATION)) == 1
