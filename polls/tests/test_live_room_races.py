"""The live room's races, with real threads against PostgreSQL: a room of people answering, a host hiding
answers meanwhile, and join codes given out to polls and decks made at the same moment."""

import random
import threading
from collections import Counter

import pytest

from accounts.tests.factories import UserFactory
from polls import answers, decks, join_codes, selectors
from polls.models import Answer, Deck, Poll
from polls.tests.factories import PollFactory, visitor

# The same marks (PostgreSQL only, real transactions) and the same thread harness as the API's races.
from polls.tests.test_api_concurrency import (  # noqa: F401 (a fixture and the module's marks)
    client_for,
    connection_per_thread,
    outcome,
    pytestmark,
    run_together,
)


def text_poll(author, **fields) -> Poll:
    return PollFactory(author=author, title="One word for today?", method="text", options=[], **fields)


def answer_path(poll) -> str:
    return f"/api/polls/{poll.pk}/answers"


def is_refusal(result, code: str) -> bool:
    status, refused_with = result
    return 400 <= status < 500 and refused_with == code


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_a_voter_sending_more_answers_at_once_than_allowed_gets_exactly_the_allowance(owner, other_user, voter):
    poll = text_poll(owner, answers_per_voter=3)
    user = other_user if voter == "account" else None
    headers = {} if user else {"HTTP_X_ANON_ID": "racing-answerer-0001", "REMOTE_ADDR": "198.51.100.70"}

    results = run_together(
        poll.answers_per_voter + 3,
        lambda index: outcome(client_for(user).post(answer_path(poll), {"text": f"Word {index}"}, format="json", **headers)),
    )

    assert Counter(status for status, _ in results)[201] == 3, results
    refused = [result for result in results if result[0] != 201]
    assert len(refused) == 3 and all(is_refusal(result, "too_many_answers") for result in refused), refused
    assert Answer.objects.filter(poll=poll).count() == 3
    poll.refresh_from_db()
    assert poll.total_votes == 3


def test_anonymous_answers_from_one_address_stop_at_the_cap_of_distinct_voters(owner, settings):
    """Each of 30 visitors behind one address sends two answers at once: the address holds the cap's number of
    voters, each voter's second answer taking no second place."""
    limit = settings.ANONYMOUS_BALLOTS_PER_IP = 5
    poll = text_poll(owner, answers_per_voter=2)

    def answer(index: int):
        headers = {"HTTP_X_ANON_ID": f"one-address-answerer-{index // 2:04d}", "REMOTE_ADDR": "198.51.100.71"}
        return outcome(client_for().post(answer_path(poll), {"text": f"Word {index}"}, format="json", **headers))

    results = run_together(60, answer)

    assert 500 not in [status for status, _ in results]
    stored = Answer.objects.filter(poll=poll)
    assert stored.values("anon_id").distinct().count() == limit
    assert limit <= stored.count() <= 2 * limit
    refused = [result for result in results if result[0] != 201]
    assert len(refused) == 60 - stored.count()
    assert all(is_refusal(result, "anonymous_limit") for result in refused), Counter(refused)


def test_the_total_counts_the_visible_answers_after_answers_and_hides_race(owner):
    """40 people answer while the host hides the rude group again and again: the rude answers are all hidden,
    those sent after the hide too, and the poll's total is the visible answers, as its results say."""
    poll = text_poll(owner)
    rude = answers.normalise("Rude word")
    texts = ["Coffee", "coffee!", "Rude word", "RUDE  word", "Tea", "Sleep", "rude word."]
    people = [visitor(number, ip_address=f"10.2.0.{number + 1}") for number in range(40)]
    # The host hides a group that has answers; the first rude one came in before the race.
    answers.submit_answer(poll=poll, voter=visitor(99, ip_address="10.2.1.1"), text="Rude word")

    def act(index: int):
        if index % 5 == 0:
            return answers.hide(poll=poll, actor=owner, key=rude)
        return answers.submit_answer(poll=poll, voter=people[index], text=texts[index % len(texts)])

    run_together(50, lambda index: act(index) if index < 40 else answers.hide(poll=poll, actor=owner, key=rude))

    stored = Answer.objects.filter(poll=poll)
    assert stored.count() == 33  # the first rude answer, and 40 people of whom every fifth is the host hiding instead
    assert set(stored.filter(key=rude).values_list("hidden", flat=True)) == {True}
    visible = stored.filter(hidden=False).count()
    assert visible == 33 - stored.filter(key=rude).count() > 0
    poll.refresh_from_db()
    assert poll.total_votes == visible
    results = selectors.full_results(poll)
    assert results["total_votes"] == results["answers"]["answers"] == visible
    assert sum(group["count"] for group in results["answers"]["groups"]) == visible
    assert rude not in [group["key"] for group in results["answers"]["groups"]]


def test_the_total_follows_hides_and_reveals_racing_with_answers(owner):
    """The host hides and shows two groups back and forth while people answer: however it ends, each group's
    answers are all hidden or all shown, and the total is the visible ones."""
    poll = text_poll(owner)
    keys = [answers.normalise("Coffee"), answers.normalise("Tea")]
    people = [visitor(number, ip_address=f"10.3.0.{number + 1}") for number in range(30)]
    for number, text in enumerate(["Coffee", "Tea"]):
        answers.submit_answer(poll=poll, voter=visitor(90 + number, ip_address="10.3.1.1"), text=text)

    def act(index: int):
        if index >= 30:
            return answers.hide(poll=poll, actor=owner, key=keys[index % 2], hidden=bool(index % 3))
        return answers.submit_answer(poll=poll, voter=people[index], text=["Coffee", "Tea", "Water"][index % 3])

    run_together(42, act)

    stored = Answer.objects.filter(poll=poll)
    for key in keys:
        assert len(set(stored.filter(key=key).values_list("hidden", flat=True))) == 1, key
    poll.refresh_from_db()
    assert poll.total_votes == stored.filter(hidden=False).count() == selectors.full_results(poll)["total_votes"]


@pytest.fixture
def colliding_codes(monkeypatch):
    """In the race, every thread's first draws are the same free code ("AZZZZZ" for polls, "2ZZZZZ" for decks: the
    model's default draws once, then saving draws), so all but one collide on the unique index while the first
    holder has not committed yet; later draws come from three letters (243 codes a kind), so they collide with each
    other and with the codes taken before."""
    drawn = threading.local()
    draw = random.Random(15)

    def small_draw(first: str) -> str:
        racing = threading.current_thread() is not threading.main_thread()
        drawn.count = getattr(drawn, "count", 0) + 1
        if racing and drawn.count <= 2:
            return first[0] + "Z" * (join_codes.LENGTH - 1)
        return first[0] + "".join(draw.choice("ABC") for _ in range(join_codes.LENGTH - 1))

    monkeypatch.setattr(join_codes, "_draw", small_draw)


def test_polls_and_decks_made_at_once_never_share_a_join_code(owner, colliding_codes):
    authors = [UserFactory(username=f"presenter{number}") for number in range(20)]
    own_polls = [PollFactory(author=author, title=f"Opening poll {number}") for number, author in enumerate(authors)]

    def make(index: int):
        if index < 20:
            return decks.create_deck(author=authors[index], title=f"Talk {index}", poll_ids=[own_polls[index].pk])
        return PollFactory(author=owner, title=f"Quick poll {index}")

    made = run_together(60, make)

    assert Counter(type(thing) for thing in made) == {Deck: 20, Poll: 40}
    codes = list(Poll.objects.values_list("join_code", flat=True)) + list(Deck.objects.values_list("join_code", flat=True))
    assert len(codes) == 80 and len(set(codes)) == 80
    assert all(join_codes.normalise(code) == code for code in codes)
    assert {"AZZZZZ", "2ZZZZZ"} <= set(codes)  # the code every thread drew first went to exactly one of them
    # Every code finds its own object back, a poll's and a deck's alike.
    for thing in made:
        assert join_codes.find(thing.join_code.lower()) == thing
