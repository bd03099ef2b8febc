"""Reactions to a message, and ignoring someone."""

from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _

from core.refusals import RefusalCode, Refused
from rooms import notify, policy, queries
from rooms.actions.messages import (
    message_id_of,
)
from rooms.models import (
    Ignore,
    Message,
    Reaction,
)
from rooms.ratelimit import take_token
from rooms.text import reaction_emoji


@transaction.atomic(durable=True)
def do_react(message_id: int, emoji, *, actor, add: bool) -> dict[str, int]:
    """Adds or takes back the actor's `emoji` on a message of a room they may
    read; one of each emoji per person. Returns the message's counts; the room
    gets them (`reactions`) when they changed."""
    chosen = reaction_emoji(emoji)
    if chosen is None:
        raise Refused(RefusalCode.INVALID, _("Cette réaction n'est pas proposée."))
    # The lock orders concurrent reactions, so the last counts sent are the true ones.
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("room")
        .filter(pk=message_id_of(message_id), deleted_at__isnull=True)
        .first()
    )
    if message is None or not policy.can_join(actor, message.room):
        raise Refused(RefusalCode.NOT_FOUND, _("Ce message n'existe pas ou plus."))
    if add:
        changed = not Reaction.objects.filter(message=message, user=actor, emoji=chosen).exists()
        if changed:
            wait = take_token(actor.pk)
            if wait:
                raise Refused(
                    RefusalCode.RATE_LIMITED,
                    _("Vous réagissez trop vite : réessayez dans %(seconds).1f s.")
                    % {"seconds": wait},
                )
            Reaction.objects.create(message=message, user=actor, emoji=chosen)
    else:
        changed = bool(
            Reaction.objects.filter(message=message, user=actor, emoji=chosen).delete()[0]
        )
    counts = queries.reaction_counts([message.id]).get(message.id, {})
    if changed:
        transaction.on_commit(
            partial(notify.reactions_changed, message.room_id, message.id, counts)
        )
    return counts


@transaction.atomic(durable=True)
def do_ignore_user(target, *, actor) -> Ignore:
    """`actor` ignores `target`: target's messages collapse for the actor, their
    mentions and typing stop reaching them. Target is not told."""
    if target.pk == actor.pk:
        raise Refused(RefusalCode.INVALID, _("Vous ne pouvez pas vous ignorer vous-même."))
    ignore, _created = Ignore.objects.get_or_create(ignorer=actor, ignored=target)
    transaction.on_commit(partial(notify.relations_changed, actor.pk))
    return ignore


@transaction.atomic(durable=True)
def do_unignore_user(target, *, actor) -> bool:
    """Lifts actor's ignore on target; True if there was one."""
    deleted, _detail = Ignore.objects.filter(ignorer=actor, ignored=target).delete()
    if deleted:
        transaction.on_commit(partial(notify.relations_changed, actor.pk))
    return bool(deleted)
