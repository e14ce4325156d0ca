"""Poll cards on the home and browse pages: what trending lists, why each card is there, and the
results they preview, never more than the poll's page would show a visitor."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from polls import selectors, services
from polls.models import Poll
from polls.tests.factories import PollFactory, pick, visitor

pytestmark = pytest.mark.django_db


def cards_html(page: str, title: str) -> list[str]:
    """The markup of the cards with this title (the home page may list a poll in several sections)."""
    return [card for card in re.findall(r'<article class="card">.*?</article>', page, re.S) if f">{title}</a>" in card]


def card_html(page: str, title: str) -> str:
    [card] = cards_html(page, title)
    return card


def vote(poll, *numbers, option="Red"):
    for number in numbers:
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, option))


def test_trending_lists_open_polls_only(owner):
    """A closed poll's recent votes made it trend on a page where nobody can vote on it any more."""
    still_open = PollFactory(author=owner, title="Still open")
    closed = PollFactory(author=owner, title="Closed by hand")
    expired = PollFactory(author=owner, title="Past its closing time")
    for poll in (still_open, closed, expired):
        vote(poll, 1, 2)
    services.set_poll_active(poll=closed, actor=owner, active=False)
    Poll.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert list(selectors.trending_polls()) == [still_open]


def test_each_home_section_says_why_a_poll_is_there(owner):
    poll = PollFactory(author=owner, title="Lunch?")
    vote(poll, 1, 2, 3)
    services.like_poll(poll=poll, voter=visitor(9))

    page = Client().get("/").content.decode()

    def section(key):
        return page.split(f'aria-labelledby="{key}-heading"')[1].split("</section>")[0]

    assert "+3 votes, +1 like in the last hour" in section("trending")
    assert re.search(r"3 votes · 1 like", section("popular"))
    assert re.search(r"New · <time[^>]*data-when=\"relative\"[^>]*>now</time>", section("recent"))


def test_trending_does_not_tell_of_hidden_votes(owner):
    hidden = PollFactory(author=owner, title="Hidden", results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    vote(hidden, 1, 2)
    services.like_poll(poll=hidden, voter=visitor(9))

    [trend] = [selectors.trend_summary(poll) for poll in selectors.trending_polls()]

    assert (trend.votes, trend.likes) == (0, 1)


def test_cards_preview_the_leading_options_where_results_are_public(owner):
    poll = PollFactory(author=owner, title="Colours", options=["Red", "Green", "Blue", "Black"])
    vote(poll, 1, 2, 3, option="Blue")
    vote(poll, 4, option="Red")

    card = card_html(Client().get("/polls/").content.decode(), "Colours")

    assert re.findall(r'<span class="text">(.*?)</span>\s*<span class="pct">(\d+)%</span>', card) == [
        ("Blue", "75"),
        ("Red", "25"),
        ("Green", "0"),
    ]
    assert 'class="mini-result leader"' in card and "Black" not in card  # three options at most


@pytest.mark.parametrize(
    "rule", [Poll.ResultsVisibility.OWNER_ONLY, Poll.ResultsVisibility.AFTER_VOTE, Poll.ResultsVisibility.AFTER_CLOSE]
)
def test_cards_never_preview_hidden_results(owner, client, rule):
    poll = PollFactory(author=owner, title="Sealed", options=["Red", "Green"], results_visibility=rule)
    vote(poll, 1, 2)
    # The voter and the author may see the results on the poll's page; a card shows what anyone may see.
    services.cast_vote(poll=poll, voter=visitor(3), option_ids=pick(poll, "Green"))
    client.force_login(owner)

    for page in (client.get("/polls/"), client.get("/"), Client().get("/polls/")):
        cards = cards_html(page.content.decode(), "Sealed")
        assert cards
        for card in cards:
            assert "mini-results" not in card and "%" not in card and "Red" not in card
            assert "results hidden" in card


def test_an_open_secret_poll_never_previews_its_counts(owner):
    poll = PollFactory(author=owner, title="Chair", options=["Ann", "Bob"], is_secret=True)
    vote(poll, 1, option="Ann")
    # Even were its rule "always" (the services never allow it while secret), a moving count would tell a choice.
    Poll.objects.filter(pk=poll.pk).update(results_visibility=Poll.ResultsVisibility.ALWAYS)

    assert "mini-results" not in card_html(Client().get("/polls/").content.decode(), "Chair")

    services.set_poll_active(poll=poll, actor=owner, active=False)
    assert '<span class="text">Ann</span>' in card_html(Client().get("/polls/").content.decode(), "Chair")


def test_an_empty_section_says_what_to_do_next(owner):
    PollFactory(author=owner, title="Quiet")  # no votes or likes: nothing trends

    page = Client().get("/").content.decode()
    trending = page.split('aria-labelledby="trending-heading"')[1].split("</section>")[0]

    assert "Nothing is trending right now" in trending and 'href="/polls/new/"' in trending
