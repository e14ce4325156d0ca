"""Exports of ranked and score polls: each ballot in its method's shape, enough to recount the poll from
the file alone to the results QuickPoll shows."""

import csv
import io
import random
from collections import Counter, defaultdict

import pytest

from accounts.tests.factories import UserFactory
from polls import counting, services
from polls.tests.factories import PollFactory, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db

CITIES = ["Lisbon", "Oslo", "Tunis", "Quito", "Hanoi"]


def voters():
    """Anonymous voters each behind their own address (the per-address cap stays out of the way)."""
    for number in range(1, 250):
        yield visitor(number, ip_address=f"203.0.113.{number}")


@pytest.fixture
def ranked_poll(owner):
    """Five cities, 45 partial rankings drawn so that the count takes several rounds, one voter with an account."""
    poll = PollFactory(author=owner, title="Next meetup city", method="ranked", options=CITIES)
    ids = dict(poll.options.values_list("text", "pk"))
    draw = random.Random(14)
    # Lisbon leads on first preferences but short of a majority: the count takes several rounds.
    firsts = ["Lisbon"] * 13 + ["Oslo"] * 11 + ["Tunis"] * 10 + ["Quito"] * 7 + ["Hanoi"] * 3
    people = voters()
    for first in firsts:
        rest = draw.sample([city for city in CITIES if city != first], k=draw.randint(0, 4))
        services.cast_vote(poll=poll, voter=next(people), option_ids=[ids[city] for city in [first, *rest]])
    account = Voter(user=UserFactory(username="kim-the-voter"), ip_address="198.51.100.9", user_agent="KimBrowser")
    services.cast_vote(poll=poll, voter=account, option_ids=[ids["Hanoi"], ids["Oslo"]])
    return poll


@pytest.fixture
def score_poll(owner):
    poll = PollFactory(author=owner, title="Rate the talks", method="score", options=CITIES, score_min=1, score_max=5)
    ids = dict(poll.options.values_list("text", "pk"))
    draw = random.Random(7)
    people = voters()
    for _ in range(30):
        rated = draw.sample(CITIES, k=draw.randint(1, 5))
        services.cast_vote(poll=poll, voter=next(people), scores={str(ids[city]): draw.randint(1, 5) for city in rated})
    return poll


def export(client, poll, fmt: str):
    response = client.get(f"/api/polls/{poll.pk}/export?format={fmt}")
    assert response.status_code == 200
    assert "kim-the-voter" not in response.content.decode() and "KimBrowser" not in response.content.decode()
    return response


def recount(option_texts: list[str], rankings: list[list[str]]) -> dict:
    """An instant-runoff count of rankings given as texts, named back in texts, with polls.counting."""
    index = {text: position for position, text in enumerate(option_texts)}
    result = counting.instant_runoff(Counter(tuple(index[text] for text in ranking) for ranking in rankings), len(option_texts))
    return {
        "winner": option_texts[result.winner],
        "rounds": [
            (
                {option_texts[o]: votes for o, votes in one.tallies.items()},
                option_texts[one.eliminated] if one.eliminated is not None else None,
                one.exhausted,
            )
            for one in result.rounds
        ],
    }


def shown_rounds(ranked: dict) -> list:
    return [
        (
            {tally["text"]: tally["votes"] for tally in one["tallies"]},
            one["eliminated"]["text"] if one["eliminated"] else None,
            one["exhausted"],
        )
        for one in ranked["rounds"]
    ]


def test_a_ranked_polls_json_export_recounts_to_the_same_winner_and_rounds(owner_client, ranked_poll):
    body = export(owner_client, ranked_poll, "json").json()

    assert body["poll"]["method"] == "ranked"
    assert [option["text"] for option in body["poll"]["options"]] == CITIES
    assert len(body["ballots"]) == 45
    kim = body["ballots"][-1]
    assert (kim["voter_kind"], kim["ranking"]) == ("account", ["Hanoi", "Oslo"])
    text_of = {option["id"]: option["text"] for option in body["poll"]["options"]}
    assert all([text_of[pk] for pk in ballot["option_ids"]] == ballot["ranking"] for ballot in body["ballots"])

    again = recount([option["text"] for option in body["poll"]["options"]], [b["ranking"] for b in body["ballots"]])
    shown = body["results"]["ranked"]
    assert again["winner"] == text_of[shown["winner"]]
    assert again["rounds"] == shown_rounds(shown)
    assert len(shown["rounds"]) >= 3, "the fixture should need several rounds"
    # First preferences as the counters have them, and as the ballots say.
    firsts = Counter(ballot["ranking"][0] for ballot in body["ballots"])
    assert {option["text"]: option["votes"] for option in body["results"]["options"]} == {c: firsts[c] for c in CITIES}


def test_a_ranked_polls_csv_export_recounts_to_the_same_winner_and_rounds(owner_client, ranked_poll):
    rows = list(csv.reader(io.StringIO(export(owner_client, ranked_poll, "csv").content.decode())))
    blank = rows.index([])
    totals, ballot_rows = rows[1:blank], rows[blank + 2 :]

    assert rows[0] == ["option", "first_preferences", "percentage"]
    assert rows[blank + 1] == ["ballot", "voter_kind", "cast_at", "rank", "option"]
    option_texts = [row[0] for row in totals]  # the poll's order
    rankings = defaultdict(dict)
    for number, _, _, rank, text in ballot_rows:
        rankings[number][int(rank)] = text
    assert all(sorted(ranks) == list(range(1, len(ranks) + 1)) for ranks in rankings.values())
    again = recount(option_texts, [[ranks[place] for place in sorted(ranks)] for ranks in rankings.values()])

    shown = owner_client.get(f"/api/polls/{ranked_poll.pk}/results").json()["ranked"]
    assert again["winner"] == next(o["text"] for o in shown["pairwise"] if o["id"] == shown["winner"])
    assert again["rounds"] == shown_rounds(shown)
    firsts = Counter(ranks[1] for ranks in rankings.values())
    assert [(text, int(votes)) for text, votes, _ in totals] == [(text, firsts[text]) for text in option_texts]


def test_a_score_polls_exports_recount_to_the_same_means(owner_client, score_poll):
    body = export(owner_client, score_poll, "json").json()
    assert (body["poll"]["method"], body["poll"]["score_min"], body["poll"]["score_max"]) == ("score", 1, 5)
    given = defaultdict(list)
    for ballot in body["ballots"]:
        assert list(ballot["scores"]) == ballot["options"]
        for text, score in ballot["scores"].items():
            given[text].append(score)
    shown = {option["text"]: option for option in body["results"]["score"]["options"]}
    for text in CITIES:
        assert shown[text]["votes"] == len(given[text])
        assert shown[text]["mean"] == (round(sum(given[text]) / len(given[text]), 2) if given[text] else None)
        assert shown[text]["distribution"] == [given[text].count(score) for score in range(1, 6)]
    assert body["results"]["score"]["ballots"] == len(body["ballots"]) == 30

    rows = list(csv.reader(io.StringIO(export(owner_client, score_poll, "csv").content.decode())))
    blank = rows.index([])
    assert rows[0] == ["option", "ratings", "mean"] and rows[blank + 1] == ["ballot", "voter_kind", "cast_at", "option", "score"]
    from_csv = defaultdict(list)
    for _, _, _, text, score in rows[blank + 2 :]:
        from_csv[text].append(int(score))
    assert dict(from_csv) == dict(given)
    assert {row[0]: row[2] for row in rows[1:blank]} == {t: str(shown[t]["mean"]) if given[t] else "" for t in CITIES}


def test_an_approval_polls_export_keeps_its_shape(owner_client, owner):
    poll = PollFactory(author=owner, method="approval", options=CITIES)
    ids = dict(poll.options.values_list("text", "pk"))
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=[ids["Oslo"], ids["Lisbon"]])

    [ballot] = export(owner_client, poll, "json").json()["ballots"]

    assert ballot["options"] == ["Lisbon", "Oslo"] and "ranking" not in ballot and "scores" not in ballot
    assert ballot["option_ids"] == [str(ids["Lisbon"]), str(ids["Oslo"])]
