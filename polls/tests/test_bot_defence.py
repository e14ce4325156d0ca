"""Bot defence: when an anonymous ballot needs a solved proof-of-work challenge, over the API and the pages."""

import base64
import json
import time

import altcha
import pytest
from django.core.cache import cache

from polls import bot_defence, errors, services
from polls.models import Ballot, Poll
from polls.tests.factories import PollFactory, pick, visitor, vote_counts
from polls.voters import Voter
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

ANON_ID = "bot-defence-anon-0001"


def solve(challenge: dict) -> str:
    """What the widget (or any client) sends: the challenge and its solution, base64 JSON."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=10)
    assert solution is not None
    return altcha.Payload(parsed, solution).to_base64()


def solved_for(poll: Poll) -> str:
    return solve(bot_defence.new_challenge(poll))


def ballot(poll: Poll, number: int, *, challenge: str = "", ip_address: str = "203.0.113.1"):
    return services.cast_vote(
        poll=poll, voter=visitor(number, ip_address=ip_address), option_ids=pick(poll, "Red"), challenge=challenge
    )


def api_vote(client, poll, *, anon_id=ANON_ID, body_extra=None, **headers):
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])], **(body_extra or {})}
    return client.post("/api/votes", body, format="json", HTTP_X_ANON_ID=anon_id, **headers)


@pytest.fixture
def low_thresholds(settings):
    settings.BOT_DEFENCE_ADDRESS_THRESHOLD = 3
    settings.BOT_DEFENCE_POLL_THRESHOLD = 5
    return settings


# --- the decision ------------------------------------------------------------------------------


def test_new_polls_are_adaptive(owner):
    assert PollFactory(author=owner).bot_protection == Poll.BotProtection.ADAPTIVE


def test_off_never_asks(owner, low_thresholds):
    poll = PollFactory(author=owner, bot_protection="off")

    for number in range(10):
        ballot(poll, number)

    assert vote_counts(poll) == (10, 10, 10)


def test_always_asks_every_anonymous_ballot(owner):
    poll = PollFactory(author=owner, bot_protection="always")

    with pytest.raises(errors.ChallengeRequired) as refused:
        ballot(poll, 1)
    ballot(poll, 1, challenge=solved_for(poll))

    assert refused.value.challenge_url == f"/api/polls/{poll.pk}/challenge"
    assert vote_counts(poll) == (1, 1, 1)


def test_adaptive_asks_once_an_address_casts_more_than_its_threshold(owner, low_thresholds):
    polls = [PollFactory(author=owner) for _ in range(2)]
    # Three anonymous ballots from one address, over two polls: ordinary, no challenge.
    ballot(polls[0], 1)
    ballot(polls[0], 2)
    ballot(polls[1], 3)

    with pytest.raises(errors.ChallengeRequired):
        ballot(polls[1], 4)
    ballot(polls[1], 5, ip_address="198.51.100.7")  # another address is not asked
    ballot(polls[1], 4, challenge=solved_for(polls[1]))  # the busy address votes on, paying with work

    assert Ballot.objects.count() == 5


def test_adaptive_asks_once_a_poll_takes_more_than_its_threshold(owner, low_thresholds):
    poll = PollFactory(author=owner)
    for number in range(5):
        ballot(poll, number, ip_address=f"198.51.100.{number}")

    with pytest.raises(errors.ChallengeRequired):
        ballot(poll, 99, ip_address="198.51.100.99")
    ballot(PollFactory(author=owner), 99, ip_address="198.51.100.99")  # a quiet poll is not asked


def test_the_traffic_window_starts_afresh(owner, low_thresholds, monkeypatch):
    low_thresholds.BOT_DEFENCE_WINDOW = 60
    poll = PollFactory(author=owner)
    now = 1_000_000_020.0
    monkeypatch.setattr(bot_defence.time, "time", lambda: now)
    for number in range(3):
        ballot(poll, number)
    with pytest.raises(errors.ChallengeRequired):
        ballot(poll, 10)

    now += 60
    ballot(poll, 10)


def test_accounts_are_never_asked_even_on_always(owner, other_user):
    poll = PollFactory(author=owner, bot_protection="always")

    services.cast_vote(poll=poll, voter=Voter(user=other_user, ip_address="203.0.113.1"), option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (1, 1, 1)


def test_members_only_polls_do_not_apply_it(owner):
    poll = PollFactory(author=owner, bot_protection="always", allow_anonymous=False)

    with pytest.raises(errors.LoginRequired):
        ballot(poll, 1)
    assert not bot_defence.asks_anonymous_voters(poll)


def test_counting_is_one_cache_round_trip_per_ballot(owner, low_thresholds, monkeypatch):
    poll = PollFactory(author=owner)
    calls = []
    real = bot_defence.count_in_window
    monkeypatch.setattr(bot_defence, "count_in_window", lambda *a, **kw: calls.append(kw) or real(*a, **kw))

    ballot(poll, 1)

    assert len(calls) == 1


def test_a_cache_outage_lets_ballots_through(owner, low_thresholds, monkeypatch):
    poll = PollFactory(author=owner)

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(bot_defence, "count_in_window", down)
    for number in range(10):
        ballot(poll, number)

    assert vote_counts(poll) == (10, 10, 10)


# --- challenges: single use, bound to their poll, signed, expiring -------------------------------


def test_a_solution_counts_once(owner):
    poll = PollFactory(author=owner, bot_protection="always")
    solution = solved_for(poll)
    ballot(poll, 1, challenge=solution)

    with pytest.raises(errors.ChallengeUsed):
        ballot(poll, 2, challenge=solution)
    assert vote_counts(poll) == (1, 1, 1)


def test_a_solution_for_another_poll_is_refused(owner):
    poll, other = PollFactory(author=owner, bot_protection="always"), PollFactory(author=owner)

    with pytest.raises(errors.ChallengeInvalid):
        ballot(poll, 1, challenge=solved_for(other))


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda payload: {**payload, "solution": {**payload["solution"], "derivedKey": "ab" * 32}}, id="wrong key"),
        pytest.param(lambda payload: {**payload, "challenge": {**payload["challenge"], "signature": "0" * 64}}, id="forged"),
        pytest.param(
            lambda payload: {
                **payload,
                "challenge": {**payload["challenge"], "parameters": {**payload["challenge"]["parameters"], "cost": 0}},
            },
            id="tampered",
        ),
    ],
)
def test_a_wrong_or_forged_solution_is_refused(owner, spoil):
    poll = PollFactory(author=owner, bot_protection="always")
    payload = json.loads(base64.b64decode(solved_for(poll)))
    spoiled = base64.b64encode(json.dumps(spoil(payload)).encode()).decode()

    with pytest.raises(errors.ChallengeInvalid):
        ballot(poll, 1, challenge=spoiled)


@pytest.mark.parametrize("garbage", ["x", "bm90IGpzb24=", base64.b64encode(b'{"challenge": 1}').decode(), "e" * 5000])
def test_garbage_is_invalid_not_a_crash(owner, garbage):
    poll = PollFactory(author=owner, bot_protection="always")

    with pytest.raises(errors.ChallengeInvalid):
        ballot(poll, 1, challenge=garbage)


def test_an_expired_challenge_is_refused(owner, settings, monkeypatch):
    poll = PollFactory(author=owner, bot_protection="always")
    solution = solved_for(poll)
    later = time.time() + settings.ALTCHA_EXPIRY + 1
    monkeypatch.setattr("altcha.v2.time.time", lambda: later)

    with pytest.raises(errors.ChallengeInvalid):
        ballot(poll, 1, challenge=solution)


def test_a_challenge_signed_with_another_key_is_refused(owner, settings):
    poll = PollFactory(author=owner, bot_protection="always")
    solution = solved_for(poll)
    settings.ALTCHA_HMAC_KEY = "rotated"

    with pytest.raises(errors.ChallengeInvalid):
        ballot(poll, 1, challenge=solution)


def test_the_spent_mark_lasts_as_long_as_the_challenge(owner, settings):
    poll = PollFactory(author=owner, bot_protection="always")
    solution = solved_for(poll)
    ballot(poll, 1, challenge=solution)
    signature = json.loads(base64.b64decode(solution))["challenge"]["signature"]

    assert cache.get(f"botdefence:spent:{signature}") == 1


# --- over the API ------------------------------------------------------------------------------


def test_the_challenge_endpoint_hands_out_a_fresh_challenge(api_client, owner, settings):
    poll = PollFactory(author=owner)

    first = api_client.get(f"/api/polls/{poll.pk}/challenge")
    second = api_client.get(f"/api/polls/{poll.pk}/challenge/")

    assert first.status_code == second.status_code == 200
    assert first["Cache-Control"] == "no-store"
    body = first.json()
    assert set(body) == {"parameters", "signature"}
    assert body["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert body["parameters"]["cost"] == settings.ALTCHA_COST
    assert body["parameters"]["data"] == {"poll": str(poll.pk)}
    assert body["parameters"]["expiresAt"] > time.time()
    assert body["signature"] != second.json()["signature"]


def test_the_challenge_endpoint_for_a_missing_poll_is_404(api_client):
    assert_error(api_client.get("/api/polls/00000000-0000-0000-0000-000000000000/challenge"), 404, "not_found")


def test_the_challenge_endpoint_takes_get_only(api_client, owner):
    poll = PollFactory(author=owner)

    assert_error(api_client.post(f"/api/polls/{poll.pk}/challenge"), 405, "method_not_allowed")


def test_api_vote_without_a_challenge_gets_428_and_where_to_get_one(api_client, owner):
    poll = PollFactory(author=owner, bot_protection="always")

    response = api_vote(api_client, poll)

    assert_error(response, 428, "challenge_required")
    assert response["X-Altcha-Challenge"] == f"/api/polls/{poll.pk}/challenge"
    assert f"/api/polls/{poll.pk}/challenge" in response.json()["detail"]
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("carrier", ["header", "field"])
def test_api_vote_with_a_solved_challenge_counts_and_a_replay_is_refused(client_for, owner, carrier):
    poll = PollFactory(author=owner, bot_protection="always")
    challenge = client_for().get(f"/api/polls/{poll.pk}/challenge").json()
    solution = solve(challenge)

    def send(anon_id):
        if carrier == "header":
            return api_vote(client_for(), poll, anon_id=anon_id, HTTP_X_ALTCHA=solution)
        return api_vote(client_for(), poll, anon_id=anon_id, body_extra={"altcha": solution})

    assert send(ANON_ID).status_code == 201
    assert_error(send(f"{ANON_ID}-again"), 409, "challenge_used")
    assert vote_counts(poll) == (1, 1, 1)


def test_api_vote_with_an_invalid_challenge_is_400(api_client, owner):
    poll = PollFactory(author=owner, bot_protection="always")

    assert_error(api_vote(api_client, poll, HTTP_X_ALTCHA="not a solution"), 400, "challenge_invalid")


def test_api_adaptive_poll_asks_a_busy_address_only(client_for, owner, low_thresholds):
    poll = PollFactory(author=owner)
    for number in range(3):
        assert api_vote(client_for(), poll, anon_id=f"{ANON_ID}-{number}").status_code == 201

    assert_error(api_vote(client_for(), poll, anon_id=f"{ANON_ID}-9"), 428, "challenge_required")
    assert api_vote(client_for(), poll, anon_id=f"{ANON_ID}-8", REMOTE_ADDR="198.51.100.20").status_code == 201


def test_api_accounts_vote_without_a_challenge(other_client, owner):
    poll = PollFactory(author=owner, bot_protection="always")
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}

    assert other_client.post("/api/votes", body, format="json").status_code == 201


def test_bot_protection_is_set_and_shown_through_the_api(owner_client):
    body = {"title": "Bots?", "options": ["Yes", "No"], "bot_protection": "always"}

    created = owner_client.post("/api/polls", body, format="json")
    changed = owner_client.patch(f"/api/polls/{created.json()['id']}", {"bot_protection": "off"}, format="json")
    wrong = owner_client.patch(f"/api/polls/{created.json()['id']}", {"bot_protection": "sometimes"}, format="json")

    assert created.status_code == 201 and created.json()["bot_protection"] == "always"
    assert changed.status_code == 200 and changed.json()["bot_protection"] == "off"
    assert_error(wrong, 400, "invalid", fields=["bot_protection"])


def test_the_schema_documents_the_challenge(api_client):
    schema = api_client.get("/api/schema", HTTP_ACCEPT="application/json").json()

    challenge = schema["paths"]["/api/polls/{id}/challenge"]["get"]
    assert set(challenge["responses"]) >= {"200", "404"}
    votes = schema["paths"]["/api/votes"]["post"]
    assert "428" in votes["responses"]
    assert "X-Altcha" in {parameter["name"] for parameter in votes["parameters"]}
    assert "bot_protection" in schema["components"]["schemas"]["Poll"]["properties"]


# --- on the page -------------------------------------------------------------------------------


def test_the_page_brings_the_widget_when_a_challenge_is_required(client, owner):
    poll = PollFactory(author=owner, bot_protection="always")

    page = client.get(f"/p/{poll.slug}/").content.decode()

    assert f'data-altcha-challenge="/api/polls/{poll.pk}/challenge"' in page
    assert "vendor/altcha/altcha.min.js" in page
    assert "<noscript>" in page and "needs JavaScript" in page


def test_the_page_leaves_the_widget_out_for_ordinary_traffic_and_accounts(client, owner, other_user):
    quiet = PollFactory(author=owner)
    always = PollFactory(author=owner, bot_protection="always")

    assert "data-altcha-challenge" not in client.get(f"/p/{quiet.slug}/").content.decode()
    client.force_login(other_user)
    assert "data-altcha-challenge" not in client.get(f"/p/{always.slug}/").content.decode()


def test_the_page_brings_the_widget_before_the_threshold_is_reached(client, owner, low_thresholds):
    poll = PollFactory(author=owner)
    ballot(poll, 1, ip_address="127.0.0.1")
    assert "data-altcha-challenge" not in client.get(f"/p/{poll.slug}/").content.decode()

    ballot(poll, 2, ip_address="127.0.0.1")  # two of three: the next ones may need it

    assert "data-altcha-challenge" in client.get(f"/p/{poll.slug}/").content.decode()


def test_a_page_vote_without_the_solution_says_what_to_do(client, owner):
    poll = PollFactory(author=owner, bot_protection="always")

    response = client.post(f"/p/{poll.slug}/vote/", {"option": pick(poll, "Red")}, follow=True)

    assert "solve a small puzzle" in response.content.decode()
    assert not Ballot.objects.exists()


def test_a_page_vote_with_the_solution_counts(client, owner):
    poll = PollFactory(author=owner, bot_protection="always")
    solution = solve(client.get(f"/api/polls/{poll.pk}/challenge").json())

    response = client.post(f"/p/{poll.slug}/vote/", {"option": pick(poll, "Red"), "altcha": solution}, follow=True)

    assert "Your vote is in." in response.content.decode()
    assert vote_counts(poll) == (1, 1, 1)


def test_the_poll_form_sets_bot_protection(client, owner):
    client.force_login(owner)
    body = {"title": "Bots?", "options": ["Yes", "No"], "results_visibility": "always", "bot_protection": "off"}

    response = client.post("/polls/new/", body)

    assert response.status_code == 302
    assert Poll.objects.get(title="Bots?").bot_protection == "off"
