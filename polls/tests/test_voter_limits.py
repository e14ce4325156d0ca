"""One voter's votes and likes are limited per voter, whichever address they come from."""

import pytest

from polls.tests.factories import PollFactory, vote_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits_on(settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_REQUESTS = 1000
    settings.RATE_LIMIT_VOTER_REQUESTS = 2


def test_a_voter_over_the_limit_gets_429_from_any_address(limits_on, owner, api_client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0001"}

    answers = [
        api_client.post(
            "/api/votes",
            {"poll_id": str(poll.pk), "option_ids": [str(poll.options.first().pk)]},
            format="json",
            REMOTE_ADDR=f"198.51.100.{number}",
            **headers,
        )
        for number, poll in enumerate(polls, start=1)
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2]["Retry-After"]) >= 1
    assert vote_counts(polls[2]) == (0, 0, 0)


def test_likes_count_against_the_same_budget(limits_on, owner, api_client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    headers = {"HTTP_X_ANON_ID": "the-same-visitor-0002"}

    codes = [
        api_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers).status_code
        for poll in polls
    ]

    assert codes == [201, 201, 429]


def test_the_vote_page_explains_the_limit(limits_on, owner, client):
    polls = [PollFactory(author=owner) for _ in range(3)]
    for poll in polls:
        response = client.post(f"/p/{poll.slug}/vote/", {"option": [str(poll.options.first().pk)]}, follow=True)

    assert "Try again in" in response.content.decode()
    assert vote_counts(polls[2]) == (0, 0, 0)
