"""Document review: type by content, size limit, private storage, deletion at decision."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import actions, documents
from accounts.models import AgeVerificationAttempt, DocumentStatus, IdentityDocument

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"%" * 200
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


@pytest.fixture
def member(make_user):
    return make_user("claire", age_verified=False)


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def upload(client, name, content, content_type="image/jpeg"):
    return client.post(
        "/accounts/age/document/",
        {"document": SimpleUploadedFile(name, content, content_type=content_type)},
    )


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [(PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"), (PDF, "application/pdf", "pdf")],
)
def test_accepted_types_are_stored_privately(
    member, member_client, settings, content, content_type, extension
):
    # The declared name and type are wrong on purpose: only the content counts.
    response = upload(member_client, "scan.bin", content, "application/octet-stream")
    assert response.status_code == 302
    document = IdentityDocument.objects.get(user=member)
    assert document.content_type == content_type
    assert document.status == DocumentStatus.PENDING
    path = documents.document_path(document.stored_name)
    assert path.suffix == f".{extension}"
    assert path.is_relative_to(settings.PRIVATE_MEDIA_ROOT)
    assert path.read_bytes() == content
    assert path.stat().st_mode & 0o777 == 0o600
    assert AgeVerificationAttempt.objects.get(user=member).outcome == "submitted"


@pytest.mark.parametrize(
    "content", [WINDOWS_EXE, ELF, b"<html><script>alert(1)</script>", b"GIF89a"]
)
def test_a_renamed_executable_or_other_type_is_refused(member, member_client, settings, content):
    response = upload(member_client, "passport.jpg", content, "image/jpeg")
    assert response.status_code == 400
    assert "JPEG ou PNG, ni un PDF" in response.content.decode()
    assert not IdentityDocument.objects.exists()
    folder = settings.PRIVATE_MEDIA_ROOT / documents.DOCUMENT_FOLDER
    assert not folder.exists() or not any(folder.iterdir())


def test_an_oversized_file_is_refused(member, member_client, settings):
    big = JPEG + b"\x00" * documents.MAX_DOCUMENT_BYTES
    response = upload(member_client, "big.jpg", big)
    assert response.status_code == 400
    assert "10 Mo" in response.content.decode()
    assert not IdentityDocument.objects.exists()


def test_exactly_ten_megabytes_is_accepted(member, member_client):
    content = JPEG + b"\x00" * (documents.MAX_DOCUMENT_BYTES - len(JPEG))
    assert upload(member_client, "ok.jpg", content).status_code == 302


def test_store_document_checks_the_size_it_actually_reads(settings):
    class Lying(SimpleUploadedFile):
        size = 10  # claims to be small

    lying = Lying("x.jpg", JPEG + b"\x00" * documents.MAX_DOCUMENT_BYTES)
    lying.size = 10
    with pytest.raises(documents.DocumentRejected):
        documents.store_document(lying)
    folder = settings.PRIVATE_MEDIA_ROOT / documents.DOCUMENT_FOLDER
    assert not any(folder.iterdir())


def test_one_pending_document_at_a_time(member, member_client):
    assert upload(member_client, "a.png", PNG).status_code == 302
    response = upload(member_client, "b.png", PNG)
    assert response.status_code == 400
    assert IdentityDocument.objects.count() == 1


def test_sniffing():
    assert documents.sniff_document_type(PNG) == ("image/png", "png")
    assert documents.sniff_document_type(b"") is None
    with pytest.raises(ValueError):
        documents.document_path("../../etc/passwd")


def submit(member, content=PNG):
    return actions.do_submit_identity_document(
        member, SimpleUploadedFile("d.png", content), actor=member
    )


def test_approval_deletes_the_file_and_keeps_the_decision(
    member, make_user, django_capture_on_commit_callbacks
):
    reviewer = make_user("reviewer", is_staff=True)
    document = submit(member)
    path = documents.document_path(document.stored_name)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_decide_identity_document(document, approve=True, actor=reviewer)
    assert not path.exists()
    document.refresh_from_db()
    assert document.status == DocumentStatus.APPROVED
    assert document.stored_name == ""
    assert document.decided_by == reviewer
    member.refresh_from_db()
    assert member.is_age_verified
    assert member.age_verification_method == "document"
    # Reduced to what the law needs: "18+", how and when; the declared date goes.
    assert member.date_of_birth is None


def test_rejection_needs_a_reason_and_deletes_the_file(
    member, make_user, django_capture_on_commit_callbacks
):
    reviewer = make_user("reviewer", is_staff=True)
    document = submit(member)
    path = documents.document_path(document.stored_name)
    with pytest.raises(ValueError):
        actions.do_decide_identity_document(document, approve=False, reason=" ", actor=reviewer)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_decide_identity_document(
            document, approve=False, reason="Illisible", actor=reviewer
        )
    assert not path.exists()
    document.refresh_from_db()
    assert (document.status, document.rejection_reason) == ("rejected", "Illisible")
    member.refresh_from_db()
    assert not member.is_age_verified
    with pytest.raises(actions.DocumentAlreadyDecided):
        actions.do_decide_identity_document(document, approve=True, actor=reviewer)


def test_the_file_view_needs_the_review_permission(member, make_user):
    document = submit(member)
    viewer = make_user("viewer", is_staff=True)
    client = Client()
    client.force_login(viewer)
    url = f"/admin/accounts/identitydocument/{document.pk}/file/"
    # Not OTP-verified: the admin does not even answer.
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_groups_hold_the_review_permission():
    for name in ("Moderators", "Compliance"):
        group = Group.objects.get(name=name)
        assert group.permissions.filter(codename="review_identitydocument").exists()
    assert (
        Group.objects.get(name="Administrators").permissions.count() == Permission.objects.count()
    )


def test_a_rejection_keeps_the_declared_date_of_birth(member, make_user):
    reviewer = make_user("reviewer", is_staff=True)
    actions.do_decide_identity_document(
        submit(member), approve=False, reason="illisible", actor=reviewer
    )
    member.refresh_from_db()
    assert member.date_of_birth is not None


def test_the_age_page_states_the_review_period(member_client, settings):
    settings.COMPLIANCE_RETENTION = {"pending_identity_documents": 12}
    html = member_client.get("/accounts/age/").content.decode()
    assert "après 12 jours sans examen" in html
