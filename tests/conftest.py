"""Fixtures shared by every app's tests."""

import os
import threading
import uuid

import pytest
from channels.layers import channel_layers
from django.test import override_settings

from chatsite.services import redis_channel_layer

REDIS_URL = os.environ.get("CHATSITE_TEST_REDIS_URL", "")
REQUIRE_SERVICES = os.environ.get("CHATSITE_REQUIRE_SERVICES") == "1"


def _require_redis() -> str:
    if not REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("CHATSITE_TEST_REDIS_URL is not set but services are required")
        pytest.skip("no Redis server for channels-redis tests (see scripts/testenv)")
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def channel_layer_backend(request):
    """Runs the test once on the in-memory layer and once on channels-redis."""
    if request.param == "memory":
        layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        layers = {"default": redis_channel_layer(_require_redis(), f"test{uuid.uuid4().hex[:8]}")}
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        yield request.param
    channel_layers.backends.clear()


@pytest.fixture
def redis_url() -> str:
    return _require_redis()


DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def make_user(db):
    """Makes accounts; by default a verified adult who may chat.

    `email_verified=False` or `age_verified=False` give the accounts that the
    gates must refuse.
    """
    import datetime

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import AgeVerificationMethod

    counter = iter(range(1, 1_000_000))

    def make(
        username: str | None = None,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        email_verified: bool = True,
        age_verified: bool = True,
        **fields,
    ):
        username = username or f"user{next(counter)}"
        email = email or f"{username.lower()}@example.org"
        user = get_user_model().objects.create_user(
            username=username,
            email=email,
            password=password,
            date_of_birth=fields.pop("date_of_birth", datetime.date(1990, 1, 1)),
            **fields,
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
        if age_verified:
            user.age_verified_at = timezone.now()
            user.age_verification_method = AgeVerificationMethod.ATTESTATION
            user.save(update_fields=["age_verified_at", "age_verification_method"])
        return user

    return make


@pytest.fixture(scope="session", autouse=True)
def _collected_static_files(django_test_environment):
    """With DEBUG off (the tests' default), pages name static files by their
    hashed names, read from the manifest that `collectstatic` writes, as
    `make run` does before serving."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _trust_gates_off(settings):
    """Test accounts are a minute old, level 0: the trust levels' gates
    (moderation/trust.py) would hold or refuse what other tests post. Their
    own tests (tests/moderation/test_trust.py) turn them on."""
    settings.TRUST_GATES = False


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a request with
    Accept-Language: en leaves English active in the thread (LocaleMiddleware
    activates it and nothing deactivates it after a test client's request)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _audit_trail_flushable(request):
    """Lets a transactional test's final flush pass the audit trail's append-only guards.

    The database refuses to delete audit entries (audit/guards.py), so the
    entries a transactional test committed are removed here, guards lifted,
    before pytest-django flushes the database.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        marker is not None
        and marker.kwargs.get("transaction", bool(marker.args and marker.args[0]))
    ) or any(name in request.fixturenames for name in ("transactional_db", "live_server"))
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")  # torn down (flushed) after this fixture
    yield
    from django.db import connection

    from audit import guards
    from audit.models import AuditEntry, ChainHead

    with guards.suspended(connection):
        AuditEntry.objects.all().delete()
    ChainHead.objects.all().delete()


def _give_back_on_every_worker(executor, workers: int) -> None:
    """Runs `connections.close_all()` once on each of the executor's threads
    (the barrier keeps a thread from taking two turns)."""
    from django.db import connections

    barrier = threading.Barrier(workers)

    def give_back() -> None:
        connections.close_all()
        barrier.wait(timeout=10)

    for future in [executor.submit(give_back) for _ in range(workers)]:
        future.result(timeout=15)


@pytest.fixture(autouse=True)
def _pooled_connections_given_back():
    """After each test, the threads that outlive it give their pooled
    connections back, and a test whose threads kept more is stopped there.

    Channels' test communicator turns `database_sync_to_async`'s closing of
    connections into a no-op while it waits on a consumer, so the post threads
    (rooms.consumers) and asgiref's thread for synchronous code keep the
    connection each took from psycopg's pool. Held across tests they add up,
    and a connection whose thread ends is never returned: once the pool's
    `DATABASE_POOL_MAX_SIZE` are out, every later test fails after 10 s
    waiting for one (tests/threads.py gives short-lived threads theirs back).
    """
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from rooms import consumers

    if consumers._post_executor is not None:
        _give_back_on_every_worker(consumers._post_executor, consumers._post_executor._max_workers)
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=15)
    pool = getattr(type(connections["default"]), "_connection_pools", {}).get("default")
    if pool is None:
        return  # SQLite, or PostgreSQL without the pool
    stats = pool.get_stats()
    held_here = 1 if connections["default"].connection is not None else 0
    held_elsewhere = stats["pool_size"] - stats["pool_available"] - held_here
    if held_elsewhere >= stats["pool_max"] // 2:
        pytest.fail(
            f"{held_elsewhere} of the pool's {stats['pool_max']} connections are still held "
            "by other threads after this test: a thread used the database without closing "
            "its connection (run it with tests.threads.in_thread)"
        )


STAFF_PASSWORD = "staff-password-for-tests-9f3"


@pytest.fixture
def make_staff(db):
    """Staff accounts made by the real create_staff action (TOTP device included)."""
    from accounts.actions import do_create_staff_account

    counter = iter(range(1, 1_000_000))

    def make(role: str = "moderator", username: str | None = None):
        username = username or f"{role}{next(counter)}"
        return do_create_staff_account(
            username,
            email=f"{username}@staff.example",
            role=role,
            password=STAFF_PASSWORD,
            actor=None,
        ).user

    return make


def staff_client(user, *, otp_verified: bool = True):
    """A test client signed in as `user`; with `otp_verified`, its session
    passed the TOTP step, as after the admin login."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if otp_verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client


@pytest.fixture
def make_room(db):
    """Makes rooms through rooms' own action; public by default."""
    from rooms import actions
    from rooms.models import RoomKind

    counter = iter(range(1, 1_000_000))

    def make(kind=RoomKind.PUBLIC, *, owner=None, slug=None, name=None, **fields):
        number = next(counter)
        return actions.do_create_room(
            actor=owner,
            kind=kind,
            slug=slug or f"room-{number}",
            name=name or f"Salon {number}",
            **fields,
        )

    return make


@pytest.fixture
def listen(settings):
    """Joins a group on a fresh in-memory layer; returns a function reading it."""
    from asgiref.sync import async_to_sync
    from channels.layers import channel_layers, get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    layer = get_channel_layer()

    def join(group: str):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel)

        def events() -> list[dict]:
            received = []
            while True:
                try:
                    received.append(layer.channels[channel].get_nowait()[1])
                except Exception:  # noqa: BLE001 - the queue is empty
                    return received

        return events

    yield join
    channel_layers.backends.clear()


@pytest.fixture(scope="session")
def embedded_template(tmp_path_factory):
    """The embedded default's SQLite database (tests/embedded.py), migrated once
    for the session; tests copy it."""
    from tests import embedded

    return embedded.migrated_database(tmp_path_factory.mktemp("embedded-template"))


def otp_verified(user):
    """`user` (staff made by make_staff) as a request of an OTP-verified session
    sees it: django-otp's own check, through accounts.sessions."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.sessions import verify_second_factor

    device = TOTPDevice.objects.get(user=user)
    return verify_second_factor(user, {DEVICE_ID_SESSION_KEY: device.persistent_id})


def grant_looks(
    client, *targets, reason: str = "tests : motif déclaré d'avance", seconds: int | None = None
):
    """Puts `targets` ("app.model" for a model-wide grant, or ("app.model", id))
    in the client's session as if a reason had been stated for each: for tests of
    what a gated admin page does, not of the gate (tests/audit/test_looks.py)."""
    import time

    from audit.access import ACCESS_GRANT_SECONDS, SESSION_KEY

    session = client.session
    grants = dict(session.get(SESSION_KEY, {}))
    for target in targets:
        label, target_id = (target, "") if isinstance(target, str) else target
        grants[f"{label}:{target_id}"] = {
            "reason": reason,
            "until": time.time() + (seconds or ACCESS_GRANT_SECONDS),
        }
    session[SESSION_KEY] = grants
    session.save()
    return client


def grant_model_looks(client, app_label: str | None = None):
    """grant_looks for every registered model (of `app_label`), model-wide only:
    per-object gates (a report about a private conversation, an escalation) still ask."""
    from django.contrib import admin

    labels = [
        model._meta.label_lower
        for model in admin.site._registry
        if app_label is None or model._meta.app_label == app_label
    ]
    return grant_looks(client, *labels)
