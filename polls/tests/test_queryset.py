"""PollQuerySet: the query names of a poll's state and of who sees it, held to the one-row rules.

Every poll state (open, closed by hand, expired, closed and expired, closing later) meets every
kind of viewer (anonymous, another user, the author, staff), listed and unlisted.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from polls.models import Poll
from polls.permissions import can_manage
from polls.tests.factories import PollFactory

pytestmark = pytest.mark.django_db

STATES = ["open", "closes later", "closed", "expired", "closed and expired"]


def make_polls(author) -> dict[tuple[str, bool], Poll]:
    """One poll per (state, listed); states are set on the rows, as the clock and the author leave them."""
    now = timezone.now()
    expiry = {"closes later": now + timedelta(hours=1), "expired": now - timedelta(minutes=1)}
    expiry["closed and expired"] = expiry["expired"]
    polls = {}
    for state in STATES:
        for listed in (True, False):
            poll = PollFactory(author=author, title=f"{state}, {'listed' if listed else 'unlisted'}", is_public=listed)
            Poll.objects.filter(pk=poll.pk).update(
                is_active=state not in {"closed", "closed and expired"}, expires_at=expiry.get(state)
            )
            polls[state, listed] = Poll.objects.get(pk=poll.pk)
    return polls


@pytest.fixture
def polls(owner):
    return make_polls(owner)


def titles(queryset) -> set[str]:
    return set(queryset.values_list("title", flat=True))


def titles_of(polls, *states, listed=(True, False)) -> set[str]:
    return {poll.title for (state, is_listed), poll in polls.items() if state in states and is_listed in listed}


def test_open_is_active_and_not_past_closing_time(polls):
    assert titles(Poll.objects.open()) == titles_of(polls, "open", "closes later")


def test_closed_is_closed_by_hand_or_by_the_clock(polls):
    assert titles(Poll.objects.closed()) == titles_of(polls, "closed", "expired", "closed and expired")


def test_expired_and_unexpired_split_on_the_closing_time_alone(polls):
    assert titles(Poll.objects.expired()) == titles_of(polls, "expired", "closed and expired")
    assert titles(Poll.objects.unexpired()) == titles_of(polls, "open", "closes later", "closed")


def test_overdue_is_what_the_clock_still_has_to_close(polls):
    assert titles(Poll.objects.overdue()) == titles_of(polls, "expired")


def test_open_closed_and_expired_agree_with_each_polls_properties(polls):
    opened = set(Poll.objects.open().values_list("pk", flat=True))
    closed = set(Poll.objects.closed().values_list("pk", flat=True))
    expired = set(Poll.objects.expired().values_list("pk", flat=True))
    for key, poll in polls.items():
        assert (poll.pk in opened, poll.pk in closed) == (poll.is_open, not poll.is_open), key
        assert (poll.pk in expired) == poll.is_expired, key


def test_listed_is_public_polls_only(polls):
    assert titles(Poll.objects.listed()) == titles_of(polls, *STATES, listed=(True,))


@pytest.fixture
def viewers(owner, other_user, staff_user):
    return {"anonymous": AnonymousUser(), "nobody": None, "other user": other_user, "author": owner, "staff": staff_user}


@pytest.mark.parametrize(
    "viewer, sees_unlisted",
    [("anonymous", False), ("nobody", False), ("other user", False), ("author", True), ("staff", True)],
)
def test_listed_for_adds_unlisted_polls_for_their_author_and_staff(polls, viewers, viewer, sees_unlisted):
    expected = titles_of(polls, *STATES, listed=(True, False) if sees_unlisted else (True,))

    assert titles(Poll.objects.listed_for(viewers[viewer])) == expected


def test_listed_for_is_listed_or_managed_by_the_viewer(polls, viewers, other_user):
    """The query and the one-row permission say the same, for polls of both authors."""
    theirs = make_polls(other_user)
    for name, viewer in viewers.items():
        shown = set(Poll.objects.listed_for(viewer).values_list("pk", flat=True))
        for key, poll in [*polls.items(), *theirs.items()]:
            assert (poll.pk in shown) == (poll.is_public or can_manage(viewer, poll)), (name, key, poll.author)


def test_the_methods_chain_with_each_other_and_with_filters(polls, owner):
    unlisted_open = Poll.objects.filter(author=owner).listed_for(owner).open().exclude(is_public=True)

    assert titles(unlisted_open) == titles_of(polls, "open", "closes later", listed=(False,))
