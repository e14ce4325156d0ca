"""/api/polls: lists, trending, search, statistics, one poll, writes, reports, exports and the HTTP edges."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from polls import public_bodies, services, viewcounts
from polls.models import Ballot, Like, Poll, Report, Vote
from polls.tests.factories import PollFactory, pick, visitor, vote_counts
from polls.voters import Voter
from quickpoll.tests.assertions import assert_error
from realtime import events

pytestmark = pytest.mark.django_db

# The body of the project's first example, exactly as it was given.
SEED_POLL_BODY = """{"title": "What's your favorite programming language?", "description": "Let's find out what the community prefers", "options": ["Python", "JavaScript", "Rust", "Go"], "allow_multiple": false}"""

PAGE_KEYS = {"count", "next", "previous", "results"}
ANON_VOTER_ID = "anonymous-voter-0001"


def close(poll: Poll, how: str = "inactive") -> None:
    if how == "inactive":
        Poll.objects.filter(pk=poll.pk).update(is_active=False)
    else:
        # create_poll refuses a past closing time, so move it into the past afterwards.
        Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    poll.refresh_from_db()


def page(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PAGE_KEYS
    return body


def titles(client, path: str) -> list[str]:
    return [poll["title"] for poll in page(client, path)["results"]]


def detail(client, poll, **headers) -> dict:
    response = client.get(f"/api/polls/{poll.pk}", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def move_activity_back(poll: Poll, *, hours: float) -> None:
    """Pretend every vote and like on `poll` happened `hours` ago."""
    past = timezone.now() - timedelta(hours=hours)
    Vote.objects.filter(poll=poll).update(created_at=past)
    Like.objects.filter(poll=poll).update(created_at=past)
    Ballot.objects.filter(poll=poll).update(created_at=past)


def anonymous_votes(poll: Poll, count: int, *, first: int = 1, text: str = "Red") -> None:
    for number in range(first, first + count):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, text))


# --- the list -------------------------------------------------------------------------------------


def test_the_list_is_paginated(api_client, owner):
    for number in range(3):
        PollFactory(author=owner, title=f"Poll {number}")

    body = page(api_client, "/api/polls?page_size=2")

    assert body["count"] == 3
    assert [poll["title"] for poll in body["results"]] == ["Poll 2", "Poll 1"]
    assert body["previous"] is None and "page=2" in body["next"]
    second = page(api_client, "/api/polls?page_size=2&page=2")
    assert [poll["title"] for poll in second["results"]] == ["Poll 0"]
    assert second["next"] is None and second["previous"]


def test_page_size_is_capped_at_100(api_client, owner):
    for number in range(101):
        PollFactory(author=owner, title=f"Poll {number}", options=["Yes", "No"])

    body = page(api_client, "/api/polls?page_size=1000")

    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_a_listed_poll_shows_its_options_and_author_without_email(api_client, poll):
    [listed] = page(api_client, "/api/polls")["results"]

    assert listed["id"] == str(poll.pk)
    assert [option["text"] for option in listed["options"]] == ["Red", "Green", "Blue"]
    assert set(listed["author"]) == {"id", "username", "display_name", "bio", "avatar", "created_at"}


@pytest.fixture
def listed_and_unlisted(owner, other_user):
    """A public and an unlisted poll about the same thing, both with fresh votes and likes."""
    polls = {}
    for key, is_public in (("public", True), ("unlisted", False)):
        polls[key] = PollFactory(
            author=owner, title=f"Colour poll {key}", description="colours", options=["Red", "Green"], is_public=is_public
        )
        services.cast_vote(poll=polls[key], voter=Voter(user=other_user), option_ids=pick(polls[key], "Red"))
        services.like_poll(poll=polls[key], voter=Voter(user=other_user))
    return polls


@pytest.mark.parametrize(
    "path",
    [
        "/api/polls",
        "/api/polls/trending",
        "/api/polls/popular",
        "/api/polls/recent",
        "/api/polls/search?q=colour",
        "/api/polls?author={owner}",
    ],
)
@pytest.mark.parametrize("viewer", [None, "owner"])
def test_unlisted_polls_are_never_listed(request, client_for, owner, listed_and_unlisted, path, viewer):
    client = client_for(request.getfixturevalue(viewer) if viewer else None)

    assert titles(client, path.format(owner=owner.pk)) == ["Colour poll public"]


def test_unlisted_polls_are_left_out_of_the_platform_stats(api_client, listed_and_unlisted):
    stats = api_client.get("/api/polls/stats").json()

    assert (stats["total_polls"], stats["open_polls"], stats["total_votes"], stats["total_likes"]) == (1, 1, 1, 1)
    assert stats["today"] == {"polls_created": 1, "votes": 1, "likes": 1}


@pytest.fixture
def assorted_polls(owner, other_user):
    """Polls to filter: open, closed, expired (all by owner) and a multiple-choice one by other_user."""
    PollFactory(author=owner, title="Open")
    close(PollFactory(author=owner, title="Closed"), "inactive")
    close(PollFactory(author=owner, title="Expired", expires_at=timezone.now() + timedelta(hours=1)), "expired")
    PollFactory(author=other_user, title="Multi", allow_multiple=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"Open", "Closed", "Expired", "Multi"}),
        ("author={owner}", {"Open", "Closed", "Expired"}),
        ("author={other}", {"Multi"}),
        ("active=true", {"Open", "Expired", "Multi"}),
        ("active=false", {"Closed"}),
        ("expired=true", {"Expired"}),
        ("expired=false", {"Open", "Closed", "Multi"}),
        ("multiple=true", {"Multi"}),
        ("multiple=false", {"Open", "Closed", "Expired"}),
        ("author={owner}&active=true&expired=false", {"Open"}),
        ("active=1", {"Open", "Expired", "Multi"}),
        ("active=0", {"Closed"}),
        ("multiple=yes", {"Multi"}),
        ("expired=False", {"Open", "Closed", "Multi"}),
    ],
)
def test_list_filters(api_client, owner, other_user, assorted_polls, query, expected):
    path = "/api/polls?" + query.format(owner=owner.pk, other=other_user.pk)

    assert set(titles(api_client, path)) == expected


def test_a_malformed_author_filter_is_refused(api_client, assorted_polls):
    assert_error(api_client.get("/api/polls?author=not-a-uuid"), 400, "invalid", fields={"author"})


@pytest.mark.parametrize("query", ["active=maybe", "expired=xx", "multiple=2", "active=truthy"])
def test_a_malformed_boolean_filter_is_refused(api_client, assorted_polls, query):
    field = query.split("=")[0]

    assert_error(api_client.get(f"/api/polls?{query}"), 400, "invalid", fields={field})


def test_ordering_by_total_votes(api_client, owner):
    for title, votes in (("None", 0), ("Two", 2), ("One", 1)):
        anonymous_votes(PollFactory(author=owner, title=title), votes)

    assert titles(api_client, "/api/polls?ordering=-total_votes") == ["Two", "One", "None"]
    assert titles(api_client, "/api/polls?ordering=total_votes") == ["None", "One", "Two"]
    assert titles(api_client, "/api/polls") == ["One", "Two", "None"]  # newest first by default


# --- trending, popular, recent ----------------------------------------------------------------


def test_trending_weighs_recent_activity_not_all_time_totals(api_client, owner):
    old = PollFactory(author=owner, title="Old favourite")
    anonymous_votes(old, 10)
    services.like_poll(poll=old, voter=visitor(1))
    move_activity_back(old, hours=30)
    stale = PollFactory(author=owner, title="Stale")
    anonymous_votes(stale, 20)
    move_activity_back(stale, hours=72)
    new = PollFactory(author=owner, title="New and busy")
    anonymous_votes(new, 2)
    PollFactory(author=owner, title="Never voted")

    assert titles(api_client, "/api/polls/trending") == ["New and busy", "Old favourite"]
    # All-time, the old polls lead.
    assert titles(api_client, "/api/polls/popular")[:3] == ["Stale", "Old favourite", "New and busy"]


def test_popular_counts_a_like_as_two_votes(api_client, owner):
    three_votes = PollFactory(author=owner, title="Three votes")
    anonymous_votes(three_votes, 3)
    one_vote_two_likes = PollFactory(author=owner, title="One vote, two likes")
    anonymous_votes(one_vote_two_likes, 1)
    services.like_poll(poll=one_vote_two_likes, voter=visitor(1))
    services.like_poll(poll=one_vote_two_likes, voter=visitor(2))
    PollFactory(author=owner, title="Nothing")

    assert titles(api_client, "/api/polls/popular") == ["One vote, two likes", "Three votes", "Nothing"]


def test_recent_lists_newest_first(api_client, owner):
    for number in range(3):
        PollFactory(author=owner, title=f"Poll {number}")

    assert titles(api_client, "/api/polls/recent") == ["Poll 2", "Poll 1", "Poll 0"]


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def searchable(owner):
    PollFactory(author=owner, title="Favourite programming language", options=["Python", "JavaScript", "Rust", "Go"])
    PollFactory(
        author=owner, title="Weekend plans", description="Hiking or reading by the fireplace", options=["Mountains", "Library"]
    )
    PollFactory(author=owner, title="Breakfast", options=["Pancakes", "Porridge"])
    PollFactory(
        author=owner,
        title="Secret programming poll",
        description="fireplace",
        options=["Pancakes", "Rust"],
        is_public=False,
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("programming", ["Favourite programming language"]),
        ("fireplace", ["Weekend plans"]),
        ("pancakes", ["Breakfast"]),
        ("Rust", ["Favourite programming language"]),
        ("zebra", []),
    ],
    ids=["title", "description", "option", "option-case", "nothing"],
)
def test_search_finds_titles_descriptions_and_options(api_client, searchable, q, expected):
    assert titles(api_client, f"/api/polls/search?q={q}") == expected


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", f"?q={'x' * 201}"])
def test_search_needs_a_reasonable_query(api_client, searchable, query):
    assert_error(api_client.get(f"/api/polls/search{query}"), 400, "invalid", fields={"q"})


@pytest.mark.parametrize(("query", "expected"), [("pancakes%00", ["Breakfast"]), ("%00", [])])
def test_search_with_a_nul_character_answers_like_any_other(api_client, searchable, query, expected):
    # PostgreSQL refuses NUL in a query: this was a 500 there (found by tests/fuzz).
    assert titles(api_client, f"/api/polls/search?q={query}") == expected


# --- platform statistics -----------------------------------------------------------------------


def test_platform_stats_add_up(api_client, owner, other_user):
    open_poll = PollFactory(author=owner, allow_multiple=True)
    closed = PollFactory(author=owner)
    services.cast_vote(poll=open_poll, voter=Voter(user=other_user), option_ids=pick(open_poll, "Red", "Green"))
    services.cast_vote(poll=closed, voter=visitor(1), option_ids=pick(closed, "Blue"))
    services.like_poll(poll=open_poll, voter=visitor(1))
    close(closed)
    yesterday = PollFactory(author=owner)
    services.like_poll(poll=yesterday, voter=Voter(user=other_user))
    Poll.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=2))
    move_activity_back(yesterday, hours=48)
    UserFactory(username="gone", is_active=False)

    response = api_client.get("/api/polls/stats")

    assert response.status_code == 200
    assert response.json() == {
        "total_polls": 3,
        "open_polls": 2,
        "total_votes": 3,
        "total_likes": 2,
        "total_users": 2,
        "today": {"polls_created": 2, "votes": 3, "likes": 1},
    }


# --- one poll ------------------------------------------------------------------------------------


def test_an_unlisted_poll_opens_by_its_id(api_client, owner):
    unlisted = PollFactory(author=owner, title="Hidden", is_public=False)

    body = detail(api_client, unlisted)

    assert (body["id"], body["title"], body["is_public"]) == (str(unlisted.pk), "Hidden", False)


def test_a_fresh_visitor_sees_a_poll_they_can_vote_on(api_client, poll):
    body = detail(api_client, poll)

    assert {key: body[key] for key in ("has_voted", "my_votes", "liked", "can_vote", "is_expired", "is_open")} == {
        "has_voted": False,
        "my_votes": [],
        "liked": False,
        "can_vote": True,
        "is_expired": False,
        "is_open": True,
    }
    assert body["author"]["username"] == "owner" and "email" not in body["author"]


def test_a_voter_sees_their_vote_and_like(other_client, other_user, owner):
    multi = PollFactory(author=owner, allow_multiple=True)
    services.cast_vote(poll=multi, voter=Voter(user=other_user), option_ids=pick(multi, "Red", "Blue"))
    services.like_poll(poll=multi, voter=Voter(user=other_user))

    body = detail(other_client, multi)

    assert (body["has_voted"], body["liked"], body["can_vote"]) == (True, True, False)
    assert sorted(body["my_votes"]) == sorted(str(option_id) for option_id in pick(multi, "Red", "Blue"))


def test_an_anonymous_voter_is_recognised_by_x_anon_id(api_client, poll):
    services.cast_vote(poll=poll, voter=Voter(anon_id=ANON_VOTER_ID), option_ids=pick(poll, "Green"))

    mine = detail(api_client, poll, HTTP_X_ANON_ID=ANON_VOTER_ID)
    someone_else = detail(api_client, poll, HTTP_X_ANON_ID="anonymous-voter-0002")

    assert (mine["has_voted"], mine["my_votes"], mine["can_vote"]) == (True, [str(pick(poll, "Green")[0])], False)
    assert (someone_else["has_voted"], someone_else["can_vote"]) == (False, True)


@pytest.mark.parametrize("how", ["inactive", "expired"])
def test_a_closed_poll_cannot_be_voted_on(api_client, owner, how):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    close(poll, how)

    body = detail(api_client, poll)

    assert (body["is_expired"], body["is_open"], body["can_vote"]) == (how == "expired", False, False)


def test_a_members_only_poll_asks_anonymous_visitors_to_log_in(api_client, other_client, owner):
    members_only = PollFactory(author=owner, allow_anonymous=False)

    assert detail(api_client, members_only)["can_vote"] is False
    assert detail(other_client, members_only)["can_vote"] is True


# --- results visibility ----------------------------------------------------------------------------

AFTER_VOTE_NOTE = "Results show once you have voted."
AFTER_CLOSE_NOTE = "Results show when the author closes the poll."
OWNER_ONLY_NOTE = "Only the poll's author sees the results."


@pytest.mark.parametrize(
    ("mode", "viewer", "state", "note"),
    [
        ("always", "anonymous", "open", None),
        ("always", "voter", "open", None),
        ("after_vote", "anonymous", "open", AFTER_VOTE_NOTE),
        ("after_vote", "bystander", "open", AFTER_VOTE_NOTE),
        ("after_vote", "voter", "open", None),
        ("after_vote", "anonymous_voter", "open", None),
        ("after_vote", "owner", "open", None),
        ("after_vote", "anonymous", "inactive", None),
        ("after_close", "voter", "open", AFTER_CLOSE_NOTE),
        ("after_close", "anonymous", "open", AFTER_CLOSE_NOTE),
        ("after_close", "voter", "inactive", None),
        ("after_close", "anonymous", "expired", None),
        ("after_close", "owner", "open", None),
        ("owner_only", "voter", "open", OWNER_ONLY_NOTE),
        ("owner_only", "anonymous", "open", OWNER_ONLY_NOTE),
        ("owner_only", "voter", "inactive", OWNER_ONLY_NOTE),
        ("owner_only", "bystander", "expired", OWNER_ONLY_NOTE),
        ("owner_only", "owner", "open", None),
        ("owner_only", "staff", "open", None),
    ],
)
def test_results_show_only_where_the_poll_allows(client_for, owner, other_user, staff_user, mode, viewer, state, note):
    poll = PollFactory(author=owner, results_visibility=mode, expires_at=timezone.now() + timedelta(hours=1))
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(anon_id=ANON_VOTER_ID), option_ids=pick(poll, "Red"))
    if state != "open":
        close(poll, state)
    users = {"voter": other_user, "owner": owner, "staff": staff_user, "bystander": UserFactory(username="bystander")}
    headers = {"HTTP_X_ANON_ID": ANON_VOTER_ID} if viewer == "anonymous_voter" else {}

    body = detail(client_for(users.get(viewer)), poll, **headers)

    visible = note is None
    assert body["results_visible"] is visible
    if mode == "after_close" and not visible:
        assert body["results_note"].startswith("Results show when the poll closes, at ")
    else:
        assert body["results_note"] == note
    if visible:
        assert [(o["text"], o["votes"], o["percentage"]) for o in body["options"]] == [
            ("Red", 2, 100.0),
            ("Green", 0, 0.0),
            ("Blue", 0, 0.0),
        ]
    else:
        assert [set(option) for option in body["options"]] == [{"id", "text"}] * 3
    # Hidden means hidden: the total would tell what the per-option counts do not.
    assert body["total_votes"] == (2 if visible else None)


def test_after_close_without_a_closing_time_says_the_author_closes_it(api_client, owner):
    poll = PollFactory(author=owner, results_visibility="after_close")

    assert detail(api_client, poll)["results_note"] == AFTER_CLOSE_NOTE


# --- view counting --------------------------------------------------------------------------------


def updates_in(queries) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("UPDATE")]


def test_without_a_flusher_each_view_is_written_at_once(api_client, poll):
    detail(api_client, poll)
    detail(api_client, poll)

    poll.refresh_from_db()
    assert poll.views_count == 2


def test_with_the_flusher_reads_write_nothing_and_a_flush_writes_each_poll_once(api_client, poll, monkeypatch):
    monkeypatch.setattr(viewcounts, "_flusher", "running")  # as in quickpoll.wsgi, without the thread
    other = PollFactory(author=poll.author)

    with CaptureQueriesContext(connection) as reads:
        for _ in range(5):
            detail(api_client, poll)
        detail(api_client, other)

    assert updates_in(reads) == []
    with CaptureQueriesContext(connection) as flush:
        assert viewcounts.flush_views() == 2

    assert len(updates_in(flush)) == 2
    poll.refresh_from_db()
    other.refresh_from_db()
    assert (poll.views_count, other.views_count) == (5, 1)
    assert viewcounts.flush_views() == 0


def test_lists_do_not_count_views(api_client, poll):
    for _ in range(3):
        page(api_client, "/api/polls")

    poll.refresh_from_db()
    assert poll.views_count == 0


# --- create ------------------------------------------------------------------------------------------


def test_the_readme_example_body_creates_a_poll(owner_client, owner):
    response = owner_client.post("/api/polls", SEED_POLL_BODY, content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    poll = Poll.objects.get(pk=body["id"])
    assert (poll.title, poll.description, poll.author, poll.allow_multiple) == (
        "What's your favorite programming language?",
        "Let's find out what the community prefers",
        owner,
        False,
    )
    assert [option["text"] for option in body["options"]] == ["Python", "JavaScript", "Rust", "Go"]
    assert [option["votes"] for option in body["options"]] == [0, 0, 0, 0]
    assert (body["is_public"], body["allow_anonymous"], body["results_visibility"]) == (True, True, "always")
    assert (body["total_votes"], body["likes_count"], body["views_count"], body["can_vote"]) == (0, 0, 0, True)
    assert body["author"]["id"] == str(owner.pk)


def test_create_takes_every_setting(owner_client):
    expires_at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    body = json.loads(SEED_POLL_BODY) | {
        "allow_multiple": True,
        "max_choices": 2,
        "is_public": False,
        "allow_anonymous": False,
        "results_visibility": "after_vote",
        "expires_at": expires_at.isoformat(),
    }

    response = owner_client.post("/api/polls", body, format="json")

    assert response.status_code == 201
    poll = Poll.objects.get(pk=response.json()["id"])
    assert (poll.allow_multiple, poll.max_choices, poll.is_public, poll.allow_anonymous) == (True, 2, False, False)
    assert (poll.results_visibility, poll.expires_at) == ("after_vote", expires_at)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"options": ["Only one"]}, {"options"}),
        ({"options": [f"Option {n}" for n in range(21)]}, {"options"}),
        ({"options": ["Python", "python", "Go"]}, {"options"}),
        ({"options": "Python, Go"}, {"options"}),
        ({"options": ["Python", ""]}, {"options"}),
        ({"title": "x" * 201}, {"title"}),
        ({"title": ""}, {"title"}),
        ({"max_choices": 2}, {"max_choices"}),
        ({"allow_multiple": True, "max_choices": 5}, {"max_choices"}),
        ({"results_visibility": "sometimes"}, {"results_visibility"}),
        ({"expires_at": "2001-01-01T00:00:00Z"}, {"expires_at"}),
        ({"allow_multiple": "perhaps"}, {"allow_multiple"}),
    ],
    ids=[
        "one-option",
        "21-options",
        "duplicate-options",
        "options-not-a-list",
        "blank-option",
        "title-too-long",
        "blank-title",
        "max-choices-on-single-choice",
        "max-choices-over-options",
        "unknown-visibility",
        "expiry-in-the-past",
        "not-a-boolean",
    ],
)
def test_create_refuses_invalid_polls_naming_the_fields(owner_client, changes, fields):
    body = json.loads(SEED_POLL_BODY) | changes

    assert_error(owner_client.post("/api/polls", body, format="json"), 400, "invalid", fields=fields)
    assert not Poll.objects.exists()


def test_create_needs_a_title_and_options(owner_client):
    assert_error(owner_client.post("/api/polls", {}, format="json"), 400, "invalid", fields={"title", "options"})


def test_anonymous_visitors_cannot_create_polls(api_client):
    response = api_client.post("/api/polls", SEED_POLL_BODY, content_type="application/json")

    assert_error(response, 401, "login_required")
    assert not Poll.objects.exists()


# --- update ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["owner", "staff_user"])
def test_the_author_or_staff_patch_a_poll(client_for, request, poll, editor):
    response = client_for(request.getfixturevalue(editor)).patch(
        f"/api/polls/{poll.pk}", {"title": "Retitled", "is_public": False}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["is_public"]) == ("Retitled", False)
    poll.refresh_from_db()
    assert (poll.title, poll.is_public, poll.description) == ("Retitled", False, "")
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


def test_staff_cannot_put_new_options_on_someone_elses_poll(client_for, poll, staff_user):
    body = {"title": "Pets", "description": "Pick one", "options": ["Cat", "Dog"], "allow_multiple": False}

    response = client_for(staff_user).put(f"/api/polls/{poll.pk}", body, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "not_editable")
    assert list(response.json()["fields"]) == ["options"]
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


@pytest.mark.parametrize("editor", ["owner"])
def test_the_author_puts_a_whole_poll(client_for, request, poll, editor):
    body = {"title": "Pets", "description": "Pick one", "options": ["Cat", "Dog"], "allow_multiple": False}

    response = client_for(request.getfixturevalue(editor)).put(f"/api/polls/{poll.pk}", body, format="json")

    assert response.status_code == 200
    assert [option["text"] for option in response.json()["options"]] == ["Cat", "Dog"]
    poll.refresh_from_db()
    assert (poll.title, poll.description) == ("Pets", "Pick one")
    assert list(poll.options.values_list("text", flat=True)) == ["Cat", "Dog"]


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(("editor", "status", "code"), [("other_user", 403, "not_owner"), (None, 401, "login_required")])
def test_others_cannot_change_a_poll(client_for, request, poll, method, editor, status, code):
    client = client_for(request.getfixturevalue(editor) if editor else None)
    body = {"title": "Hijacked", "options": ["Spam", "Eggs"]}

    assert_error(getattr(client, method)(f"/api/polls/{poll.pk}", body, format="json"), status, code)
    poll.refresh_from_db()
    assert poll.title == "Favourite colour?"
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


def test_options_are_locked_once_a_poll_has_votes(owner_client, poll):
    anonymous_votes(poll, 1)

    changed = owner_client.patch(f"/api/polls/{poll.pk}", {"options": ["Red", "Green", "Purple"]}, format="json")
    same = owner_client.patch(f"/api/polls/{poll.pk}", {"options": ["Red", "Green", "Blue"], "title": "Colours"}, format="json")

    assert_error(changed, 409, "options_locked")
    assert same.status_code == 200
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]
    assert vote_counts(poll) == (1, 1, 1)


def test_a_patch_is_validated(owner_client, poll):
    assert_error(owner_client.patch(f"/api/polls/{poll.pk}", {"title": ""}, format="json"), 400, "invalid", fields={"title"})
    assert_error(owner_client.put(f"/api/polls/{poll.pk}", {"title": "No options"}, format="json"), 400, "invalid", fields={"options"})


# --- delete, activate, deactivate ------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["owner", "staff_user"])
def test_the_author_or_staff_delete_a_poll(client_for, request, api_client, poll, editor):
    anonymous_votes(poll, 2)

    response = client_for(request.getfixturevalue(editor)).delete(f"/api/polls/{poll.pk}")

    assert response.status_code == 204
    assert not Poll.objects.filter(pk=poll.pk).exists()
    assert not Vote.objects.exists()
    assert_error(api_client.get(f"/api/polls/{poll.pk}"), 404, "not_found")


@pytest.mark.parametrize(("editor", "status", "code"), [("other_user", 403, "not_owner"), (None, 401, "login_required")])
def test_others_cannot_delete_a_poll(client_for, request, poll, editor, status, code):
    client = client_for(request.getfixturevalue(editor) if editor else None)

    assert_error(client.delete(f"/api/polls/{poll.pk}"), status, code)
    assert Poll.objects.filter(pk=poll.pk).exists()


@pytest.mark.parametrize("editor", ["owner", "staff_user", "moderator"])
def test_the_author_or_staff_close_and_reopen_a_poll(client_for, request, poll, editor):
    client = client_for(request.getfixturevalue(editor))

    closed = client.post(f"/api/polls/{poll.pk}/deactivate")
    assert closed.status_code == 200
    assert (closed.json()["is_active"], closed.json()["is_open"], closed.json()["can_vote"]) == (False, False, False)
    poll.refresh_from_db()
    assert poll.is_active is False

    reopened = client.post(f"/api/polls/{poll.pk}/activate")
    assert reopened.status_code == 200
    assert reopened.json()["is_active"] is True
    poll.refresh_from_db()
    assert poll.is_active is True


@pytest.mark.parametrize("action", ["activate", "deactivate"])
@pytest.mark.parametrize(("editor", "status", "code"), [("other_user", 403, "not_owner"), (None, 401, "login_required")])
def test_others_cannot_close_or_reopen_a_poll(client_for, request, owner, action, editor, status, code):
    poll = PollFactory(author=owner)
    if action == "activate":
        close(poll)
    client = client_for(request.getfixturevalue(editor) if editor else None)

    assert_error(client.post(f"/api/polls/{poll.pk}/{action}"), status, code)
    poll.refresh_from_db()
    assert poll.is_active is (action == "deactivate")


# --- report ----------------------------------------------------------------------------------------


def test_reporting_a_poll(other_client, other_user, poll):
    response = other_client.post(f"/api/polls/{poll.pk}/report", {"reason": "spam", "note": "  Ads  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "poll", "reason", "note", "status", "created_at"}
    assert (body["poll"], body["reason"], body["note"], body["status"]) == (str(poll.pk), "spam", "Ads", "open")
    report = Report.objects.get()
    assert (report.reporter, report.poll) == (other_user, poll)


def test_a_second_open_report_is_refused(other_client, poll):
    other_client.post(f"/api/polls/{poll.pk}/report", {"reason": "spam"}, format="json")

    response = other_client.post(f"/api/polls/{poll.pk}/report", {"reason": "abuse"}, format="json")

    assert_error(response, 409, "already_reported")
    assert Report.objects.count() == 1


def test_anonymous_visitors_cannot_report(api_client, poll):
    assert_error(api_client.post(f"/api/polls/{poll.pk}/report", {"reason": "spam"}, format="json"), 401, "login_required")
    assert not Report.objects.exists()


@pytest.mark.parametrize("body", [{"reason": "boring"}, {}, {"reason": "spam", "note": "x" * 1001}])
def test_a_report_needs_a_known_reason(other_client, poll, body):
    response = other_client.post(f"/api/polls/{poll.pk}/report", body, format="json")

    assert_error(response, 400, "invalid", fields={"note"} if "note" in body else {"reason"})
    assert not Report.objects.exists()


# --- export ----------------------------------------------------------------------------------------


@pytest.fixture
def exported_poll(owner):
    """Three ballots, by an account, a visitor and another visitor, on a poll with a formula-looking option."""
    poll = PollFactory(author=owner, title="Spreadsheet test", options=["=SUM(A1)", "Plain", "@cmd"], allow_multiple=True)
    voter = UserFactory(username="zed-the-voter", email="zed@mail.example")
    zed = Voter(user=voter, ip_address="198.51.100.77", user_agent="ZedBrowser")
    services.cast_vote(poll=poll, voter=zed, option_ids=pick(poll, "=SUM(A1)", "Plain"))
    services.cast_vote(poll=poll, voter=visitor(1, ip_address="198.51.100.78"), option_ids=pick(poll, "=SUM(A1)"))
    services.cast_vote(poll=poll, voter=visitor(2, ip_address="198.51.100.79"), option_ids=pick(poll, "@cmd"))
    return poll


PRIVATE_BITS = ["zed-the-voter", "zed@mail.example", "@example.com", "198.51.100.", "visitor-", "ZedBrowser", "owner"]


@pytest.mark.parametrize("exporter", ["owner", "staff_user"])
def test_export_csv_is_anonymised_and_neutralises_formulas(client_for, request, exported_poll, exporter):
    response = client_for(request.getfixturevalue(exporter)).get(f"/api/polls/{exported_poll.pk}/export?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="{exported_poll.slug}.csv"'
    text = response.content.decode()
    assert not [bit for bit in PRIVATE_BITS if bit in text]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[:4] == [
        ["option", "votes", "percentage"],
        ["'=SUM(A1)", "2", "50.0"],
        ["Plain", "1", "25.0"],
        ["'@cmd", "1", "25.0"],
    ]
    assert rows[4] == [] and rows[5] == ["ballot", "voter_kind", "cast_at", "option"]
    ballots = rows[6:]
    assert sorted((row[0], row[1], row[3]) for row in ballots) == [
        ("1", "account", "'=SUM(A1)"),
        ("1", "account", "Plain"),
        ("2", "anonymous", "'=SUM(A1)"),
        ("3", "anonymous", "'@cmd"),
    ]
    # No cell anywhere would run as a formula.
    assert not [cell for row in rows for cell in row if cell[:1] in {"=", "+", "-", "@"}]


@pytest.mark.parametrize("exporter", ["owner", "staff_user"])
def test_export_json_is_anonymised(client_for, request, exported_poll, exporter):
    response = client_for(request.getfixturevalue(exporter)).get(f"/api/polls/{exported_poll.pk}/export?format=json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{exported_poll.slug}.json"'
    assert not [bit for bit in PRIVATE_BITS if bit in response.content.decode()]
    body = response.json()
    assert set(body) == {"poll", "results", "ballots"}
    assert body["poll"]["id"] == str(exported_poll.pk)
    assert body["results"]["total_votes"] == 4
    assert [(o["text"], o["votes"]) for o in body["results"]["options"]] == [("=SUM(A1)", 2), ("Plain", 1), ("@cmd", 1)]
    assert [(b["ballot"], b["voter_kind"], sorted(b["options"])) for b in body["ballots"]] == [
        (1, "account", ["=SUM(A1)", "Plain"]),
        (2, "anonymous", ["=SUM(A1)"]),
        (3, "anonymous", ["@cmd"]),
    ]
    assert set(body["ballots"][0]) == {"ballot", "voter_kind", "cast_at", "options", "option_ids"}


def test_export_defaults_to_json(owner_client, exported_poll):
    response = owner_client.get(f"/api/polls/{exported_poll.pk}/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(("exporter", "status", "code"), [("other_user", 403, "not_owner"), (None, 401, "login_required")])
def test_others_cannot_export(client_for, request, exported_poll, exporter, status, code):
    client = client_for(request.getfixturevalue(exporter) if exporter else None)

    for fmt in ("csv", "json"):
        assert_error(client.get(f"/api/polls/{exported_poll.pk}/export?format={fmt}"), status, code)


def test_export_refuses_unknown_formats(owner_client, exported_poll):
    assert_error(owner_client.get(f"/api/polls/{exported_poll.pk}/export?format=xml"), 400, "invalid", fields={"format"})


@pytest.mark.parametrize("accept", ["text/csv", "text/html"])
def test_export_answers_whatever_accept_says(owner_client, other_client, exported_poll, accept):
    # The format parameter decides; Accept: text/csv, the documented type, was a 406 not_acceptable.
    response = owner_client.get(f"/api/polls/{exported_poll.pk}/export?format=csv", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert_error(other_client.get(f"/api/polls/{exported_poll.pk}/export", HTTP_ACCEPT=accept), 403, "not_owner")


# --- missing polls, wrong methods, slashes and bodies -------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("put", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/activate"),
        ("post", "/deactivate"),
        ("post", "/report"),
        ("get", "/export"),
    ],
)
def test_an_unknown_poll_is_not_found(owner_client, method, suffix):
    body = {"title": "x", "options": ["a", "b"], "reason": "spam"}

    response = getattr(owner_client, method)(f"/api/polls/{uuid.uuid4()}{suffix}", body, format="json")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/polls/not-a-uuid", "/api/polls/12345/report", "/api/polls/popular/export"])
def test_a_poll_path_without_a_uuid_is_not_found(owner_client, path):
    assert_error(owner_client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/polls/trending"),
        ("post", "/api/polls/trending"),
        ("delete", "/api/polls"),
        ("patch", "/api/polls"),
        ("post", "/api/polls/stats"),
        ("delete", "/api/polls/search"),
        ("get", "/api/polls/{id}/activate"),
        ("get", "/api/polls/{id}/report"),
        ("post", "/api/polls/{id}/export"),
        ("post", "/api/polls/{id}"),
    ],
)
def test_wrong_methods_are_refused(owner_client, poll, method, path):
    response = getattr(owner_client, method)(path.format(id=poll.pk), {}, format="json")

    assert_error(response, 405, "method_not_allowed")
    assert Poll.objects.count() == 1


@pytest.mark.parametrize("path", ["/api/polls", "/api/polls/", "/api/polls/{id}", "/api/polls/{id}/", "/api/polls/trending/"])
def test_paths_answer_get_with_or_without_a_trailing_slash(api_client, poll, path):
    response = api_client.get(path.format(id=poll.pk))

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/polls", "/api/polls/"])
def test_paths_answer_post_with_or_without_a_trailing_slash(owner_client, path):
    response = owner_client.post(path, SEED_POLL_BODY, content_type="application/json")

    assert response.status_code == 201
    assert Poll.objects.count() == 1


def test_malformed_json_is_refused(owner_client):
    response = owner_client.post("/api/polls", '{"title": "Broken", "options": [', content_type="application/json")

    assert_error(response, 400, "invalid")
    assert not Poll.objects.exists()


@pytest.mark.parametrize("kind", ["json", "multipart"])
def test_a_body_over_the_upload_limit_is_a_client_error(owner_client, settings, kind):
    title = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    if kind == "json":
        response = owner_client.post("/api/polls", json.dumps({"title": title, "options": ["a", "b"]}), content_type="application/json")
    else:
        response = owner_client.post("/api/polls", {"title": title, "options": ["a", "b"]}, format="multipart")

    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "detail"}
    assert not Poll.objects.exists()


def vote(client, poll, text: str = "Red"):
    return client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, text)[0])]}, format="json")


# --- the shared answer for visitors with nothing of their own ------------------------------------------


def test_visitors_with_nothing_of_their_own_share_one_cached_answer(api_client, poll, monkeypatch):
    monkeypatch.setattr(viewcounts, "_flusher", "running")
    first = detail(api_client, poll)

    with CaptureQueriesContext(connection) as again:
        second = detail(api_client, poll)

    assert second == first
    assert again.captured_queries == []


def test_the_shared_answer_again_is_the_same_json_with_the_same_headers_and_counts_its_view(api_client, poll, monkeypatch):
    monkeypatch.setattr(viewcounts, "_flusher", "running")
    monkeypatch.setattr(viewcounts, "_pending", viewcounts.Counter())
    first = api_client.get(f"/api/polls/{poll.pk}")

    again = api_client.get(f"/api/polls/{str(poll.pk).upper()}")

    assert again.content == first.content
    assert {name: again[name] for name in ("Content-Type", "Allow", "Vary")} == {
        name: first[name] for name in ("Content-Type", "Allow", "Vary")
    }
    assert viewcounts._pending == {str(poll.pk): 2}


def test_a_copy_this_process_holds_lives_at_most_local_seconds_after_a_change_elsewhere(api_client, poll, monkeypatch):
    """Another process's change drops the shared copy and this process's own, not the copies other processes hold."""
    now = [1000.0]
    monkeypatch.setattr(public_bodies.time, "monotonic", lambda: now[0])
    assert detail(api_client, poll)["title"] == poll.title
    Poll.objects.filter(pk=poll.pk).update(title="Renamed elsewhere")
    cache.clear()  # as the other process's commit did

    assert detail(api_client, poll)["title"] == poll.title
    now[0] += public_bodies.LOCAL_SECONDS
    assert detail(api_client, poll)["title"] == "Renamed elsewhere"


def test_a_visitor_asking_for_what_the_api_does_not_speak_is_still_refused(api_client, poll):
    detail(api_client, poll)

    assert api_client.get(f"/api/polls/{poll.pk}", HTTP_ACCEPT="text/html").status_code == 406


def test_a_committed_vote_drops_the_cached_answer(
    api_client, client_for, other_user, poll, django_capture_on_commit_callbacks, monkeypatch
):
    # Not under test, and its snapshot would run the ORM through database_sync_to_async from this thread.
    monkeypatch.setattr(events, "publish_ballots", lambda changed, confirmations: None)
    assert detail(api_client, poll)["total_votes"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert vote(client_for(other_user), poll).status_code == 201

    assert detail(api_client, poll)["total_votes"] == 1


def test_a_deleted_poll_is_gone_at_once_for_cached_readers(api_client, owner_client, poll, django_capture_on_commit_callbacks):
    detail(api_client, poll)

    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/polls/{poll.pk}").status_code == 204

    assert api_client.get(f"/api/polls/{poll.pk}").status_code == 404


def test_voters_and_accounts_get_their_own_answer_not_the_shared_one(api_client, client_for, other_user, poll):
    detail(api_client, poll)  # the shared answer is cached
    vote(client_for(other_user), poll)

    mine = detail(client_for(other_user), poll)

    assert (mine["has_voted"], mine["total_votes"]) == (True, 1)
