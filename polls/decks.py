"""Decks: polls a presenter steps through in order, and the audience follows at the deck's join code."""

import uuid

import structlog
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from polls import announce, errors, join_codes
from polls.models import Deck, DeckItem, Poll
from polls.permissions import can_manage, require_deck_owner

logger = structlog.get_logger(__name__)

DECK_POLLS_LIMIT = 30
TITLE_LENGTH = 200


def _polls_for(actor: User, poll_ids) -> tuple[list[Poll], dict[str, list[str]]]:
    """The polls named, in the order given, if the actor manages every one of them."""
    if isinstance(poll_ids, (str, bytes)) or not hasattr(poll_ids, "__iter__"):
        return [], {"polls": [_("Give a list of poll ids.")]}
    ids = [str(poll_id).lower() for poll_id in poll_ids]
    if not 1 <= len(ids) <= DECK_POLLS_LIMIT:
        return [], {"polls": [f"A deck holds between 1 and {DECK_POLLS_LIMIT} polls."]}
    if len(set(ids)) != len(ids):
        return [], {"polls": ["A poll appears in a deck once."]}
    well_formed = [poll_id for poll_id in ids if _is_uuid(poll_id)]
    found = {str(poll.pk): poll for poll in Poll.objects.filter(pk__in=well_formed).select_related("author")}
    missing = [poll_id for poll_id in ids if poll_id not in found or not can_manage(actor, found[poll_id])]
    if missing:
        return [], {"polls": ["A deck holds polls you manage; these are not: " + ", ".join(missing) + "."]}
    return [found[poll_id] for poll_id in ids], {}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _clean_title(title) -> tuple[str, list[str]]:
    title = " ".join(str(title or "").split())
    if not title:
        return title, ["A deck needs a title."]
    if len(title) > TITLE_LENGTH:
        return title, [f"Titles are at most {TITLE_LENGTH} characters."]
    return title, []


def create_deck(*, author: User, title: str, poll_ids) -> Deck:
    if author is None or not author.is_authenticated:
        raise errors.LoginRequired()
    title, title_problems = _clean_title(title)
    polls, problems = _polls_for(author, poll_ids)
    if title_problems:
        problems["title"] = title_problems
    if problems:
        raise errors.InvalidDeck(problems)
    deck = Deck(author=author, title=title)
    with transaction.atomic():
        join_codes.save_with_code(deck)
        DeckItem.objects.bulk_create(DeckItem(deck=deck, poll=poll, position=index) for index, poll in enumerate(polls))
    logger.info("deck_created", deck_id=str(deck.pk), polls=len(polls))
    return deck


def update_deck(*, deck: Deck, actor: User, title: str | None = None, poll_ids=None) -> Deck:
    """Rename a deck or set its polls and their order. The poll on screen stays on screen if it is still in
    the deck; otherwise the deck starts again from its first poll."""
    require_deck_owner(deck, actor)
    problems: dict[str, list[str]] = {}
    if title is not None:
        title, title_problems = _clean_title(title)
        if title_problems:
            problems["title"] = title_problems
    polls = None
    if poll_ids is not None:
        polls, poll_problems = _polls_for(actor, poll_ids)
        problems |= poll_problems
    if problems:
        raise errors.InvalidDeck(problems)
    with transaction.atomic():
        locked = Deck.objects.select_for_update().get(pk=deck.pk)
        moved = False
        if title is not None:
            locked.title = title
        if polls is not None:
            showing = locked.current_poll
            locked.items.all().delete()
            DeckItem.objects.bulk_create(
                DeckItem(deck=locked, poll=poll, position=index) for index, poll in enumerate(polls)
            )
            position = next((index for index, poll in enumerate(polls) if showing and poll.pk == showing.pk), 0)
            moved = position != locked.position or showing is None or showing.pk != polls[position].pk
            locked.position = position
        locked.save()
        if moved:
            announce.deck_moved(locked)
    return locked


def delete_deck(*, deck: Deck, actor: User) -> None:
    """The deck goes; its polls stay."""
    require_deck_owner(deck, actor)
    deck.delete()
    logger.info("deck_deleted", deck_id=str(deck.pk))


def move(*, deck: Deck, actor: User, position) -> Deck:
    """Put the deck's poll at `position` (0 is the first) on screen: its audience follows."""
    require_deck_owner(deck, actor)
    with transaction.atomic():
        locked = Deck.objects.select_for_update().get(pk=deck.pk)
        count = locked.items.count()
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < count:
            raise errors.InvalidDeck({"position": [f"Choose a position from 0 to {count - 1}."]})
        if position != locked.position:
            locked.position = position
            locked.save(update_fields=["position", "updated_at"])
            announce.deck_moved(locked)
    deck.position = locked.position
    return locked


def deck_state(deck: Deck) -> dict:
    """Where a deck stands: what its audience's page and the API show."""
    polls = [item.poll for item in deck.items.select_related("poll").order_by("position")]
    current = polls[deck.position] if deck.position < len(polls) else None
    return {
        "deck_id": str(deck.pk),
        "title": deck.title,
        "join_code": deck.join_code,
        "position": deck.position,
        "count": len(polls),
        "poll": None
        if current is None
        else {
            "id": str(current.pk),
            "slug": current.slug,
            "title": current.title,
            "url": f"/p/{current.slug}/",
            "join_code": current.join_code,
        },
    }
