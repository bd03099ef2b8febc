"""Nothing typed is lost (static/js/chat.js's outbox), in a real browser.

A message shows as pending until its echo; the network drops (the server
dies) while it is pending, and it is delivered exactly once after the
reconnect; it survives a page reload; a post the server refuses shows as
failed with a retry button, which sends it once allowed.
"""

import signal
import time

import pytest
from playwright.sync_api import expect

from rooms import policy_cache
from tests.browser.test_rooms import Person, bodies, connected, open_as, send
from tests.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECONNECT_TIMEOUT = 60_000  # the restarted server, then the client's backoff


@pytest.fixture
def people(transactional_db, make_user, asgi_server) -> dict[str, Person]:
    from django.conf import settings
    from django.test import Client

    from rooms import actions
    from rooms.models import RoomKind

    actions.do_create_room(actor=None, kind=RoomKind.PUBLIC, slug="general", name="Général")
    result = {}
    for name in ("alice", "bob"):
        client = Client()
        client.force_login(make_user(name))
        result[name] = Person(name, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return result


def stored(body: str) -> int:
    from rooms.models import Message

    return Message.objects.filter(body=body).count()


def pending(page):
    return page.locator("#messages .message.pending")


def test_a_message_pending_when_the_network_drops_is_delivered_once(
    people, asgi_server, new_context
):
    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    bob = open_as(new_context, asgi_server, people["bob"], "/rooms/general/")
    connected(alice)
    connected(bob)
    asgi_server.daphne.process.send_signal(signal.SIGSTOP)
    try:
        send(alice, "envoyé pendant la coupure")
        expect(pending(alice)).to_have_count(1)
        expect(pending(alice).locator(".message-state")).to_have_text("Envoi…")
    finally:
        # The server dies with the message unread: the connection drops.
        asgi_server.restart()
    expect(alice.locator("#chat-status")).to_have_text("Connecté", timeout=RECONNECT_TIMEOUT)
    expect(pending(alice)).to_have_count(0, timeout=RECONNECT_TIMEOUT)
    expect(bodies(alice)).to_have_text(["envoyé pendant la coupure"])
    expect(bodies(bob)).to_have_text(["envoyé pendant la coupure"], timeout=RECONNECT_TIMEOUT)
    assert in_thread(stored, "envoyé pendant la coupure") == 1


def test_a_pending_message_survives_a_reload(people, asgi_server, new_context):
    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    connected(alice)
    alice.evaluate("window.chatsiteChat.disconnect()")
    expect(alice.locator("#chat-status")).to_have_text("Déconnecté")
    send(alice, "tapé hors connexion")
    expect(pending(alice)).to_have_count(1)

    alice.reload()
    connected(alice)
    expect(pending(alice)).to_have_count(0)
    expect(bodies(alice)).to_have_text(["tapé hors connexion"])
    alice.reload()
    expect(bodies(alice)).to_have_text(["tapé hors connexion"])  # once, nothing left to send
    assert in_thread(stored, "tapé hors connexion") == 1


def refuse_word(word: str) -> int:
    """A filter that refuses posts with `word` (a mute would lock the composer
    instead: docs/ux.md, "Moderation's measures")."""
    from moderation.models import FilterAction, FilterKind, FilterRule

    rule = FilterRule.objects.create(
        name="mot refusé", kind=FilterKind.WORDS, pattern=word, action=FilterAction.BLOCK
    )
    return rule.pk


def allow_words(rule_id: int) -> None:
    from moderation.models import FilterRule

    # Saved, not `.update()`d: the model's signal is what drops the servers'
    # cached filter rules (rooms/policy_cache.py), as every real path does.
    rule = FilterRule.objects.get(pk=rule_id)
    rule.is_active = False
    rule.save(update_fields=["is_active"])


def test_a_refused_post_shows_as_failed_with_a_retry(people, asgi_server, new_context):
    rule = in_thread(refuse_word, "parler")
    alice = open_as(new_context, asgi_server, people["alice"], "/rooms/general/")
    connected(alice)
    send(alice, "je voudrais parler")
    failed = alice.locator("#messages .message.pending.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".message-state")).to_have_text("Non envoyé")
    expect(alice.locator("#composer-error")).not_to_be_empty()
    retry = failed.get_by_role("button", name="Réessayer")
    expect(retry).to_be_visible()

    in_thread(allow_words, rule)
    # The server is another process, which keeps the filter rules in memory
    # (rooms/policy_cache.py): without a shared channel layer the change reaches it
    # by the copy's expiry, so the member retries until it does, as one would.
    deadline = time.monotonic() + policy_cache.TTL_SECONDS + 10
    retry.click()
    while pending(alice).count() and time.monotonic() < deadline:
        alice.wait_for_timeout(1000)
        if failed.count():
            failed.get_by_role("button", name="Réessayer").click()
    expect(pending(alice)).to_have_count(0)
    expect(bodies(alice)).to_have_text(["je voudrais parler"])
    assert in_thread(stored, "je voudrais parler") == 1
