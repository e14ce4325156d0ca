"""One voter's votes, retractions, likes and unlikes share one budget, whichever address they come from."""

import pytest

from polls.models import Vote
from polls.tests.factories import PollFactory, like_counts, vote_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits_on(settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_REQUESTS = 1000
    settings.RATE_LIMIT_VOTER_REQUESTS = 2
    # Windows are fixed slots of time: a long one keeps a test's few requests inside one slot.
    settings.RATE_LIMIT_WINDOW = 24 * 3600


def vote(client, poll, **extra):
    body = {"poll_id": str(poll.pk), "option_ids": [str(poll.options.first().pk)]}
    return client.post("/api/votes", body, format="json", **extra)


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_a_voter_over_the_limit_gets_429_from_any_address(limits_on, owner, api_client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0001"}

    answers = [
        vote(api_client, poll, REMOTE_ADDR=f"198.51.100.{number}", **headers)
        for number, poll in enumerate(polls, start=1)
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert_rate_limited(answers[2])
    assert vote_counts(polls[2]) == (0, 0, 0)


def test_likes_count_against_the_same_budget(limits_on, owner, api_client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0002"}

    codes = [
        api_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers).status_code
        for poll in polls
    ]

    assert codes == [201, 201, 429]


def test_retract_and_vote_again_spends_the_vote_budget(limits_on, owner, api_client):
    poll = PollFactory(author=owner)
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0003"}

    answers = [
        vote(api_client, poll, **headers),
        api_client.delete(f"/api/votes/poll/{poll.pk}", **headers),
        vote(api_client, poll, **headers),
    ]

    assert [answer.status_code for answer in answers] == [201, 204, 429]
    assert_rate_limited(answers[2])
    assert vote_counts(poll) == (0, 0, 0)


def test_a_retraction_over_the_limit_is_refused_and_the_vote_stands(limits_on, owner, api_client):
    polls = [PollFactory(author=owner) for _ in range(2)]
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0004"}
    vote(api_client, polls[0], **headers)
    vote(api_client, polls[1], **headers)
    vote_id = Vote.objects.get(poll=polls[0]).pk

    by_id = api_client.delete(f"/api/votes/{vote_id}", **headers)
    by_poll = api_client.delete(f"/api/votes/poll/{polls[1].pk}", **headers)

    assert_rate_limited(by_id)
    assert_rate_limited(by_poll)
    assert vote_counts(polls[0]) == (1, 1, 1)
    assert vote_counts(polls[1]) == (1, 1, 1)


@pytest.mark.parametrize("unlike_by", ["poll", "id"])
def test_unlike_and_like_again_spends_the_like_budget(limits_on, owner, api_client, unlike_by):
    poll = PollFactory(author=owner)
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0005"}
    like = api_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers)
    unlike_path = f"/api/likes/poll/{poll.pk}" if unlike_by == "poll" else f"/api/likes/{like.json()['id']}"

    unlike = api_client.delete(unlike_path, **headers)
    again = api_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers)

    assert (like.status_code, unlike.status_code) == (201, 204)
    assert_rate_limited(again)
    assert like_counts(poll) == (0, 0)


def test_a_visitor_never_seen_spends_nothing_taking_back_what_they_do_not_have(limits_on, owner, api_client):
    poll = PollFactory(author=owner)

    codes = [api_client.delete(f"/api/votes/poll/{poll.pk}").status_code for _ in range(3)]

    assert codes == [404, 404, 404]


def test_the_vote_page_explains_the_limit(limits_on, owner, client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    for poll in polls:
        response = client.post(f"/p/{poll.slug}/vote/", {"option": [str(poll.options.first().pk)]}, follow=True)

    assert "Try again in" in response.content.decode()
    assert vote_counts(polls[2]) == (0, 0, 0)


def test_changing_my_vote_on_the_page_spends_the_same_budget(limits_on, owner, client):
    poll = PollFactory(author=owner)
    option = [str(poll.options.first().pk)]
    client.post(f"/p/{poll.slug}/vote/", {"option": option})
    retracted = client.post(f"/p/{poll.slug}/retract/", follow=True)

    again = client.post(f"/p/{poll.slug}/vote/", {"option": option}, follow=True)

    assert "Your vote is taken back" in retracted.content.decode()
    assert "Try again in" in again.content.decode()
    assert vote_counts(poll) == (0, 0, 0)


def test_unliking_on_the_page_spends_the_same_budget(limits_on, owner, client):
    poll = PollFactory(author=owner)
    client.post(f"/p/{poll.slug}/like/")
    client.post(f"/p/{poll.slug}/like/", {"undo": "1"})

    again = client.post(f"/p/{poll.slug}/like/", follow=True)

    assert "Try again in" in again.content.decode()
    assert like_counts(poll) == (0, 0)
