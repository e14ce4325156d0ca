"""Dates on pages are words, and every one is a <time data-when> the page script moves into the reader's zone."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from polls import invites, services
from polls.models import Poll
from polls.tests.factories import PollFactory, pick, visitor

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def visible_text(page: str) -> str:
    """The page as read: no tags, no attributes (where the ISO time belongs), no script."""
    return re.sub(r"<[^>]*>", " ", page)


def times(page: str) -> list[str]:
    return re.findall(r"<time\b[^>]*>", page)


def assert_dates_in_words(page: str) -> None:
    assert times(page), "the page shows no date at all"
    assert all("data-when=" in tag for tag in times(page)), times(page)
    assert not ISO_DATE.search(visible_text(page))


def test_the_poll_page_says_when_it_started_and_closes_in_words(owner):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(days=2))

    page = Client().get(reverse("poll-detail", args=[poll.slug])).content.decode()

    assert_dates_in_words(page)
    assert re.search(r"started <time[^>]*>now</time>", page)
    assert re.search(r'closes <time[^>]*data-when="date"[^>]*>\w{3} \d+ \w{3}.*?, \d\d:\d\d UTC</time> \(<time[^>]*>in 2 days</time>\)', page)


def test_an_ended_poll_says_when_it_ended(owner):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(hours=3))

    page = Client().get(reverse("poll-detail", args=[poll.slug])).content.decode()

    assert_dates_in_words(page)
    assert re.search(r"ended <time[^>]*>3 hours ago</time>", page)


def test_the_author_reads_since_when_a_poll_is_on_hold(owner, moderator):
    poll = PollFactory(author=owner)
    services.hold_poll(poll=poll, moderator=moderator, reason="Under review")
    client = Client()
    client.force_login(owner)

    page = client.get(reverse("poll-detail", args=[poll.slug])).content.decode()

    assert_dates_in_words(page)
    assert re.search(r"Since <time[^>]*>[^<]+ UTC</time>: Under review", page)


def test_cards_say_how_new_a_poll_is_and_when_it_closes(owner):
    PollFactory(author=owner, title="Closing soon", expires_at=timezone.now() + timedelta(days=3))

    page = Client().get(reverse("browse")).content.decode()

    assert_dates_in_words(page)
    assert re.search(r"closes <time[^>]*>in 3 days</time>", page)


def test_invites_and_notifications_date_in_words(owner):
    poll = PollFactory(author=owner, invite_only=True)
    invites.create_invites(poll=poll, actor=owner, count=1)
    voted = PollFactory(author=owner)
    services.cast_vote(poll=voted, voter=visitor(1), option_ids=pick(voted, "Red"))
    client = Client()
    client.force_login(owner)

    assert_dates_in_words(client.get(reverse("poll-invites", args=[poll.slug])).content.decode())
    assert_dates_in_words(client.get(reverse("notifications")).content.decode())
