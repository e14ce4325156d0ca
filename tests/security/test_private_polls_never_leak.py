"""What must not leak: unlisted polls out of every list, search, total and page; voters' IP addresses and
browsers to anyone but staff; a user's email address to anyone but that user and staff."""

import json
import re
from datetime import timedelta
from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts import api_keys
from accounts.models import Notification
from accounts.tests.factories import UserFactory
from polls import answers, decks, presenting, services
from polls.models import Ballot, Poll
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from realtime.tests.actions import like, make_poll, vote
from realtime.tests.actions import visitor as socket_visitor
from realtime.tests.sockets import receive, receive_until, silent
from tests.security.conftest import bearer_client
from webhooks import services as webhook_services
from webhooks.models import Delivery

SECRET_TITLE = "Unlisted zebra crossing plans"
SECRET_DESCRIPTION = "Only people with the link should see this zebra."
SECRET_OPTIONS = ["Zebra stripes", "Zebra spots"]


def leaks(body: str, poll: Poll) -> list[str]:
    """Which of the poll's identifying strings appear in a response body (titles, JSON-escaped or not)."""
    marks = [str(poll.pk), str(poll.pk).replace("-", ""), poll.slug, poll.title, json.dumps(poll.title)[1:-1], "zebra"]
    return [mark for mark in marks if mark.lower() in body.lower()]


def visible_to(viewer) -> tuple:
    """An API client and a browser for `viewer` (None: an anonymous visitor)."""
    browser = Client()
    if viewer is not None:
        browser.force_login(viewer)
    return bearer_client(viewer), browser


def without_query(response, path: str) -> str:
    """A page's HTML without the search words it repeats back (in its title, heading, search box and login link)."""
    body = re.sub(r'next=[^"]*"', '"', response.content.decode())
    query = parse_qs(urlsplit(path).query).get("q", [""])[0]
    return body.replace(escape(query), "") if query else body


def public_counters(client) -> dict:
    return client.get("/api/polls/stats").json()


# --- Unlisted polls in lists, searches, totals and pages -------------------------------------------------


@pytest.fixture
def public_poll(owner, other_user):
    poll = PollFactory(author=owner, title="Breakfast: tea or coffee?", options=["Tea", "Coffee"])
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Tea"))
    services.like_poll(poll=poll, voter=visitor(1))
    return poll


@pytest.fixture
def voters(db):
    return [UserFactory(username=f"voter{number}") for number in range(3)]


def make_unlisted(owner, voters) -> Poll:
    """An unlisted, multiple-choice, recently busy poll: it would top trending and popular if it were listed."""
    poll = PollFactory(
        author=owner,
        title=SECRET_TITLE,
        description=SECRET_DESCRIPTION,
        options=SECRET_OPTIONS,
        is_public=False,
        allow_multiple=True,
        expires_at=timezone.now() + timedelta(days=3),
    )
    for number, user in enumerate(voters):
        services.cast_vote(poll=poll, voter=Voter(user=user), option_ids=pick(poll, *SECRET_OPTIONS))
        services.like_poll(poll=poll, voter=Voter(user=user))
        services.cast_vote(poll=poll, voter=visitor(10 + number), option_ids=pick(poll, "Zebra spots"))
        services.like_poll(poll=poll, voter=visitor(10 + number))
    return poll


API_LISTS = [
    "/api/polls?page_size=100",
    "/api/polls?author={author}&page_size=100",
    "/api/polls?active=true",
    "/api/polls?active=false",
    "/api/polls?expired=false",
    "/api/polls?expired=true",
    "/api/polls?multiple=true",
    "/api/polls?multiple=false",
    *[
        f"/api/polls?ordering={sign}{field}&page_size=100"
        for field in ["created_at", "total_votes", "likes_count", "expires_at", "title"]
        for sign in ["", "-"]
    ],
    "/api/polls/trending?page_size=100",
    "/api/polls/popular?page_size=100",
    "/api/polls/recent?page_size=100",
    "/api/polls/search?q=" + SECRET_TITLE.replace(" ", "+"),
    "/api/polls/search?q=zebra",
    "/api/polls/search?q=Zebra+stripes",
    "/api/polls/search?q=link+should+see",
    "/api/polls/stats",
]

PAGES = [
    "/",
    "/polls/",
    "/polls/?status=open",
    "/polls/?multiple=1",
    "/polls/?q=" + SECRET_TITLE.replace(" ", "+"),
    "/polls/?q=zebra",
    "/polls/?q=Zebra+stripes",
]


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_name", ["anonymous", "other_user", "owner", "moderator"])
def test_an_unlisted_poll_is_in_no_list_search_or_page(request, owner, voters, public_poll, viewer_name):
    viewer = None if viewer_name == "anonymous" else request.getfixturevalue(viewer_name)
    api, browser = visible_to(viewer)
    before = public_counters(api)

    unlisted = make_unlisted(owner, voters)

    unlisted.refresh_from_db()
    assert (unlisted.total_votes, unlisted.likes_count) == (9, 6)
    found = {}
    for path in API_LISTS:
        response = api.get(path.format(author=owner.pk))
        assert response.status_code == 200, (path, response.content)
        found[path] = leaks(response.content.decode(), unlisted)
    for path in PAGES:
        response = browser.get(path)
        assert response.status_code == 200, path
        found[path] = leaks(without_query(response, path), unlisted)
        if "q=" in path:
            assert '<p class="meta">0 polls</p>' in response.content.decode(), path
    assert {path: marks for path, marks in found.items() if marks} == {}
    # The platform totals are those of public polls alone, as before the unlisted poll existed.
    assert public_counters(api) == before
    # The lists do show the public poll, so an empty answer cannot pass for a clean one.
    assert public_poll.title in api.get("/api/polls/recent").content.decode()
    assert public_poll.title in browser.get("/polls/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("viewer_name", "sees_it"),
    [("anonymous", False), ("other_user", False), ("third_user", False), ("owner", True), ("moderator", True)],
)
def test_an_authors_unlisted_poll_shows_on_their_profile_only_to_them_and_staff(
    request, owner, voters, public_poll, viewer_name, sees_it
):
    viewer = None if viewer_name == "anonymous" else request.getfixturevalue(viewer_name)
    api, browser = visible_to(viewer)
    stats_before = api.get(f"/api/users/{owner.pk}/stats").json()

    unlisted = make_unlisted(owner, voters)

    polls = api.get(f"/api/users/{owner.pk}/polls?page_size=100")
    stats = api.get(f"/api/users/{owner.pk}/stats").json()
    profile = browser.get(f"/u/{owner.username}/")
    assert polls.status_code == profile.status_code == 200
    if sees_it:
        assert str(unlisted.pk) in polls.content.decode() and SECRET_TITLE in profile.content.decode()
        assert stats["polls_created"] == stats_before["polls_created"] + 1
        assert stats["likes_received"] == stats_before["likes_received"] + 6
    else:
        assert leaks(polls.content.decode(), unlisted) == []
        assert leaks(profile.content.decode(), unlisted) == []
        assert stats == stats_before
        assert public_poll.title in profile.content.decode()


# --- /ws/global -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_global_socket_never_mentions_an_unlisted_poll_created_voted_and_liked_while_it_is_open(
    sockets, owner, other_user, monkeypatch
):
    from realtime import events

    monkeypatch.setattr(events.stats, "interval", 0.05)  # counters leave every 2 s; a test need not wait
    listed = await make_poll(author=owner, title="Listed before")
    await vote(listed, socket_visitor(1))
    socket = await sockets.open("/ws/global")
    first = await receive(socket)
    assert first["type"] == "stats"

    unlisted = await make_poll(author=owner, is_public=False, title=SECRET_TITLE, options=SECRET_OPTIONS)
    # Someone with the link watches it live meanwhile: that is their own socket's business, never the global one's.
    watcher = await sockets.open(f"/ws/poll/{unlisted.pk}")
    assert (await receive(watcher))["type"] == "results"
    await vote(unlisted, socket_visitor(2), "Zebra stripes")
    await vote(unlisted, Voter(user=other_user), "Zebra spots")
    await like(unlisted, socket_visitor(2))
    await like(unlisted, Voter(user=other_user))
    watched = await receive_until(watcher, lambda message: message.get("likes_count") == 2)
    assert watched[-1]["total_votes"] == 2
    assert await silent(socket)

    # Something public happens, so counters and trending leave: they must not count or name the unlisted poll.
    await vote(listed, socket_visitor(3))
    received = await receive_until(socket, lambda message: message["type"] == "stats")
    stats = received[-1]
    assert (stats["total_polls"], stats["total_votes"], stats["total_likes"]) == (1, 2, 0)
    assert stats["today"] == {"polls_created": 1, "votes": 2, "likes": 0}
    assert stats["trending"] == [str(listed.pk)]
    for message in [first, *received]:
        assert leaks(json.dumps(message), unlisted) == [], message


# --- Exports --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("export_format", ["csv", "json"])
def test_an_unlisted_polls_export_goes_to_its_author_and_staff_only_and_names_no_voter(
    owner, other_user, staff_user, moderator, voters, export_format
):
    unlisted = make_unlisted(owner, voters)
    path = f"/api/polls/{unlisted.pk}/export?format={export_format}"

    statuses = {
        name: bearer_client(user).get(path).status_code
        for name, user in [("anonymous", None), ("other", other_user), ("voter", voters[0])]
    }
    assert statuses == {"anonymous": 401, "other": 403, "voter": 403}
    for reader in (owner, staff_user, moderator):
        response = bearer_client(reader).get(path)
        assert response.status_code == 200
        body = response.content.decode()
        assert SECRET_OPTIONS[0] in body
        # "Anonymised ballots": no username, address, browser or anonymous id of any voter.
        for ballot in Ballot.objects.filter(poll=unlisted).select_related("user"):
            secrets = [ballot.anon_id, ballot.ip_address, ballot.user_agent]
            if ballot.user:
                secrets += [ballot.user.username, ballot.user.email, str(ballot.user.pk)]
            assert [secret for secret in secrets if secret and secret in body] == [], ballot


# --- IP addresses and browsers: staff only ----------------------------------------------------------------

VOTER_IP = "198.51.100.77"
VOTER_AGENT = "Leaky-Agent/9.9 (private)"
ANON_ID = "anonymous-voter-secret-0001"


@pytest.fixture
def traced_votes(owner, other_user):
    """An account vote and an anonymous vote, cast over the API from a known address and browser."""
    poll = PollFactory(author=owner, title="Where were you?", options=["Home", "Away"])
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Home")[0])]}
    headers = {"REMOTE_ADDR": VOTER_IP, "HTTP_USER_AGENT": VOTER_AGENT}
    assert bearer_client(other_user).post("/api/votes", body, format="json", **headers).status_code == 201
    assert bearer_client().post("/api/votes", body, format="json", HTTP_X_ANON_ID=ANON_ID, **headers).status_code == 201
    ballots = Ballot.objects.filter(poll=poll)
    assert {(ballot.ip_address, ballot.user_agent) for ballot in ballots} == {(VOTER_IP, VOTER_AGENT)}
    return poll


def traces(body: str) -> list[str]:
    return [mark for mark in (VOTER_IP, VOTER_AGENT, ANON_ID, "ip_address", "user_agent") if mark in body]


@pytest.mark.django_db
def test_the_author_reads_a_polls_votes_without_addresses_browsers_or_anonymous_ids(owner, traced_votes):
    author = bearer_client(owner)

    listed = author.get(f"/api/votes/poll/{traced_votes.pk}")
    assert listed.status_code == 200 and listed.json()["count"] == 2
    assert traces(listed.content.decode()) == []
    for vote_id in [vote["id"] for vote in listed.json()["results"]]:
        one = author.get(f"/api/votes/{vote_id}")
        assert one.status_code == 200
        assert traces(one.content.decode()) == []
    for path in [f"/api/votes/poll/{traced_votes.pk}/stats", f"/api/polls/{traced_votes.pk}"]:
        assert traces(author.get(path).content.decode()) == [], path


@pytest.mark.django_db
def test_a_voter_reads_their_own_vote_without_its_address_or_browser(other_user, traced_votes):
    voter = bearer_client(other_user)
    [vote_id] = [str(pk) for pk in traced_votes.votes.filter(ballot__user=other_user).values_list("pk", flat=True)]

    response = voter.get(f"/api/votes/{vote_id}")

    assert response.status_code == 200
    assert traces(response.content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("reader_name", ["staff_user", "moderator"])
def test_staff_read_the_address_and_browser_of_each_vote(request, traced_votes, reader_name):
    reader = bearer_client(request.getfixturevalue(reader_name))

    listed = reader.get(f"/api/votes/poll/{traced_votes.pk}")
    assert listed.status_code == 200
    voters = [vote["voter"] for vote in listed.json()["results"]]
    assert [(voter["ip_address"], voter["user_agent"]) for voter in voters] == [(VOTER_IP, VOTER_AGENT)] * 2
    for vote_id in [vote["id"] for vote in listed.json()["results"]]:
        voter = reader.get(f"/api/votes/{vote_id}").json()["voter"]
        assert (voter["ip_address"], voter["user_agent"]) == (VOTER_IP, VOTER_AGENT)
    # Not even staff get an anonymous voter's id: it would let them vote and retract as that visitor.
    assert ANON_ID not in listed.content.decode()


# --- Email addresses --------------------------------------------------------------------------------------

OWNER_EMAIL = "Owner.Private+polls@secret-mailbox.test"


@pytest.fixture
def crawl_world(owner, other_user, third_user):
    """The owner's polls (listed and unlisted), votes, likes and notifications, and the other user's own."""
    owner.email = OWNER_EMAIL
    owner.save(update_fields=["email"])
    mine = PollFactory(author=owner, title="Owner's listed poll")
    unlisted = PollFactory(author=owner, title="Owner's unlisted poll", is_public=False)
    theirs = PollFactory(author=other_user, title="Other's poll")
    elsewhere = PollFactory(author=third_user, title="Third's poll")
    world = {
        "owner": owner,
        "mine": mine,
        "unlisted": unlisted,
        "theirs": theirs,
        # The owner votes on and likes the other user's poll, so the other user's notifications name the owner.
        "owner_vote": services.cast_vote(poll=theirs, voter=Voter(user=owner), option_ids=pick(theirs, "Red")).ballot.votes.get(),
        "owner_like": services.like_poll(poll=theirs, voter=Voter(user=owner)),
        "owner_vote_elsewhere": services.cast_vote(
            poll=elsewhere, voter=Voter(user=owner), option_ids=pick(elsewhere, "Blue")
        ).ballot.votes.get(),
        "other_vote": services.cast_vote(poll=mine, voter=Voter(user=other_user), option_ids=pick(mine, "Green")).ballot.votes.get(),
    }
    services.like_poll(poll=mine, voter=Voter(user=other_user))
    services.report_poll(poll=mine, reporter=other_user, reason="spam")
    # Suggested options name their suggester to the poll's author: each user suggests on the other's poll.
    Poll.objects.filter(pk__in=[mine.pk, theirs.pk]).update(allow_write_ins=True)
    services.suggest_option(poll=mine, voter=Voter(user=other_user), text="Purple")
    services.suggest_option(poll=theirs, voter=Voter(user=owner), text="Purple")
    world["secret"] = PollFactory(author=owner, title="Owner's secret poll", is_secret=True)
    secret_options = pick(world["secret"], "Red")
    world["receipt"] = services.cast_vote(poll=world["secret"], voter=Voter(user=owner), option_ids=secret_options).receipt
    services.set_poll_active(poll=world["secret"], actor=owner, active=False)
    # The live room: the owner's open-text poll with an answer of each user, the owner presenting it, and a deck.
    world["text_poll"] = PollFactory(author=owner, title="Owner's open question", method="text", options=[])
    answers.submit_answer(poll=world["text_poll"], voter=Voter(user=other_user), text="Other's answer")
    world["owner_answer"] = answers.submit_answer(poll=theirs_text(other_user), voter=Voter(user=owner), text="Owner's answer")
    presenting.present(poll=world["text_poll"], actor=owner, presenting=True)
    world["deck"] = decks.create_deck(author=owner, title="Owner's deck", poll_ids=[mine.pk, world["text_poll"].pk])
    world["owner_notification"] = Notification.objects.filter(recipient=owner).first()
    world["other_notification"] = Notification.objects.filter(recipient=other_user).first()
    assert world["owner_notification"] and world["other_notification"]
    world["owner_api_key"], _secret = api_keys.create_api_key(user=owner, name="Owner's key", scopes=["read"])
    return world


def theirs_text(other_user) -> Poll:
    return PollFactory(author=other_user, title="Other's open question", method="text", options=[])


def crawl_urls(world) -> dict[str, list[str]]:
    """Every GET operation of the API, with the owner's (and, where readable, the viewer's own) objects in its path."""
    owner, mine, unlisted, theirs = world["owner"], world["mine"], world["unlisted"], world["theirs"]
    endpoint = webhook_services.create_endpoint(owner=owner, url="https://93.184.215.14/hook", events=["poll.closed"])
    message = webhook_services.send_test(endpoint=endpoint, actor=owner)
    attempt = Delivery.objects.create(outbox_event=message, endpoint=endpoint, attempt=1, status="failed", response_code=500)
    return {
        "/api/webhooks": ["/api/webhooks"],
        "/api/webhooks/{id}": [f"/api/webhooks/{endpoint.pk}"],
        "/api/webhooks/{id}/deliveries": [f"/api/webhooks/{endpoint.pk}/deliveries"],
        "/api/webhooks/deliveries/{id}": [f"/api/webhooks/deliveries/{attempt.pk}"],
        "/api/users": ["/api/users?page_size=100"],
        "/api/users/count": ["/api/users/count"],
        "/api/users/{id}": [f"/api/users/{owner.pk}"],
        "/api/users/{user_id}/polls": [f"/api/users/{owner.pk}/polls"],
        "/api/users/{user_id}/stats": [f"/api/users/{owner.pk}/stats"],
        "/api/users/me": ["/api/users/me"],
        "/api/users/me/export": ["/api/users/me/export"],
        "/api/users/me/email-preferences": ["/api/users/me/email-preferences"],
        "/api/polls": ["/api/polls?page_size=100", f"/api/polls?author={owner.pk}"],
        "/api/polls/trending": ["/api/polls/trending"],
        "/api/polls/popular": ["/api/polls/popular"],
        "/api/polls/recent": ["/api/polls/recent"],
        "/api/polls/search": ["/api/polls/search?q=poll", f"/api/polls/search?q={OWNER_EMAIL.replace('+', '%2B')}"],
        "/api/polls/stats": ["/api/polls/stats"],
        "/api/polls/{id}": [f"/api/polls/{mine.pk}", f"/api/polls/{unlisted.pk}", f"/api/polls/{theirs.pk}"],
        "/api/polls/{id}/export": [f"/api/polls/{mine.pk}/export?format=json", f"/api/polls/{theirs.pk}/export?format=csv"],
        "/api/polls/{poll_id}/invites": [f"/api/polls/{mine.pk}/invites", f"/api/polls/{theirs.pk}/invites"],
        "/api/polls/{poll_id}/write-ins": [f"/api/polls/{mine.pk}/write-ins", f"/api/polls/{theirs.pk}/write-ins"],
        "/api/polls/{poll_id}/invites/export": [f"/api/polls/{mine.pk}/invites/export", f"/api/polls/{theirs.pk}/invites/export"],
        "/api/polls/{id}/ballots": [f"/api/polls/{world['secret'].pk}/ballots", f"/api/polls/{world['secret'].pk}/ballots?format=csv"],
        "/api/polls/{id}/receipts/{code}": [f"/api/polls/{world['secret'].pk}/receipts/{world['receipt']}"],
        "/api/polls/{id}/challenge": [f"/api/polls/{mine.pk}/challenge", f"/api/polls/{unlisted.pk}/challenge"],
        "/api/oembed": [f"/api/oembed?url=http://testserver/p/{mine.slug}/", f"/api/oembed?url=http://testserver/embed/{unlisted.slug}"],
        "/api/polls/{id}/results": [f"/api/polls/{mine.pk}/results", f"/api/polls/{unlisted.pk}/results"],
        "/api/votes/poll/{poll_id}": [f"/api/votes/poll/{mine.pk}", f"/api/votes/poll/{theirs.pk}"],
        "/api/votes/poll/{poll_id}/stats": [f"/api/votes/poll/{mine.pk}/stats", f"/api/votes/poll/{theirs.pk}/stats"],
        "/api/votes/user/{user_id}": [f"/api/votes/user/{owner.pk}"],
        "/api/votes/{id}": [f"/api/votes/{world['owner_vote'].pk}", f"/api/votes/{world['other_vote'].pk}"],
        "/api/likes/user/{user_id}": [f"/api/likes/user/{owner.pk}"],
        "/api/polls/{id}/presentation": [f"/api/polls/{world['text_poll'].pk}/presentation"],
        "/api/polls/{poll_id}/answers": [
            f"/api/polls/{world['text_poll'].pk}/answers",
            f"/api/polls/{world['owner_answer'].poll_id}/answers",
        ],
        "/api/polls/code/{code}": [f"/api/polls/code/{world['text_poll'].join_code}", f"/api/polls/code/{mine.join_code}"],
        "/api/decks": ["/api/decks", "/api/decks?all=1"],
        "/api/decks/{id}": [f"/api/decks/{world['deck'].pk}"],
        "/api/decks/code/{code}": [f"/api/decks/code/{world['deck'].join_code}"],
        "/api/notifications": ["/api/notifications"],
        "/api/notifications/{id}": [
            f"/api/notifications/{world['owner_notification'].pk}",
            f"/api/notifications/{world['other_notification'].pk}",
        ],
        "/api/keys": ["/api/keys"],
        "/api/keys/{id}": [f"/api/keys/{world['owner_api_key'].pk}"],
    }


def schema_get_paths() -> set[str]:
    response = bearer_client().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return {path for path, item in json.loads(response.content)["paths"].items() if "get" in item}


def mentions_email(body: str) -> list[str]:
    lowered = body.lower().replace("\\u002b", "+")
    return [mark for mark in (OWNER_EMAIL.lower(), "secret-mailbox", "owner.private") if mark in lowered]


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_name", ["other_user", "anonymous"])
def test_no_get_endpoint_shows_another_users_email_address(request, crawl_world, viewer_name):
    urls = crawl_urls(crawl_world)
    # A new GET endpoint must be added to the crawl.
    assert schema_get_paths() == set(urls)
    viewer = None if viewer_name == "anonymous" else request.getfixturevalue(viewer_name)
    api, browser = visible_to(viewer)

    statuses, found = {}, {}
    for url in [url for group in urls.values() for url in group]:
        response = api.get(url)
        statuses[url] = response.status_code
        found[url] = mentions_email(response.content.decode())
    pages = ["/", "/polls/", f"/u/{crawl_world['owner'].username}/", f"/p/{crawl_world['mine'].slug}/", "/notifications/"]
    pages += [f"/p/{crawl_world['text_poll'].slug}/", f"/j/{crawl_world['deck'].join_code}", "/decks/"]
    for url in pages:
        response = browser.get(url)
        statuses[url] = response.status_code
        found[url] = mentions_email(response.content.decode())

    assert {url: marks for url, marks in found.items() if marks} == {}
    assert 500 not in statuses.values()
    # The crawl read real pages, not only refusals.
    assert sum(status == 200 for status in statuses.values()) >= 20


@pytest.mark.django_db
def test_the_crawl_would_notice_the_address(crawl_world):
    """/api/users/me shows the address to its owner, and the crawl's check sees it there."""
    assert mentions_email(bearer_client(crawl_world["owner"]).get("/api/users/me").content.decode())


# --- Answers to open questions: each voter reads their own, and a hidden answer reaches no audience ----------

HIDDEN_TEXT = "Zebra insult"
OTHERS_TEXT = "Someone else's zebra"
ANSWER_IP = "198.51.100.88"


@pytest.fixture
def answered_poll(owner, other_user, third_user):
    """The owner's open question: the other user's answer, a visitor's, and a third answer the owner hid."""
    poll = PollFactory(author=owner, title="One word for the talk?", method="text", options=[], answers_per_voter=2)
    answers.submit_answer(poll=poll, voter=Voter(user=other_user, ip_address=ANSWER_IP), text="Brilliant")
    answers.submit_answer(poll=poll, voter=Voter(anon_id=ANON_ID, ip_address=ANSWER_IP), text=OTHERS_TEXT)
    answers.submit_answer(poll=poll, voter=Voter(user=third_user, ip_address=ANSWER_IP), text=HIDDEN_TEXT)
    answers.hide(poll=poll, actor=owner, key=answers.normalise(HIDDEN_TEXT))
    return poll


@pytest.mark.django_db
def test_a_voter_lists_their_own_answers_only(answered_poll, other_user):
    response = bearer_client(other_user).get(f"/api/polls/{answered_poll.pk}/answers")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Brilliant" in body
    assert [mark for mark in (OTHERS_TEXT, HIDDEN_TEXT, ANON_ID, ANSWER_IP, "ip_address") if mark in body] == []


@pytest.mark.django_db
def test_a_visitor_without_answers_lists_none(answered_poll):
    response = bearer_client().get(f"/api/polls/{answered_poll.pk}/answers", HTTP_X_ANON_ID="a-visitor-who-never-answered")

    assert response.status_code == 200
    assert [mark for mark in ("Brilliant", OTHERS_TEXT, HIDDEN_TEXT, ANON_ID, ANSWER_IP) if mark in response.content.decode()] == []


def without_own_answers(page: str) -> str:
    """A poll page without the "Your answers" list: its writer sees a hidden answer there, marked as hidden."""
    return re.sub(r'<div class="my-answers">.*?</ul>', "", page, flags=re.DOTALL)


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_name", ["anonymous", "other_user", "third_user"])
def test_a_hidden_answer_reaches_no_one_in_the_audience(request, answered_poll, viewer_name):
    """Not even the voter who wrote it, in the poll, its results or the poll page's results; only in their own list."""
    viewer = None if viewer_name == "anonymous" else request.getfixturevalue(viewer_name)
    api, browser = visible_to(viewer)
    paths = [f"/api/polls/{answered_poll.pk}", f"/api/polls/{answered_poll.pk}/results", f"/api/polls/code/{answered_poll.join_code}"]

    found = {path: HIDDEN_TEXT.lower() in api.get(path).content.decode().lower() for path in paths}
    page = browser.get(f"/p/{answered_poll.slug}/").content.decode()
    found["page"] = HIDDEN_TEXT.lower() in without_own_answers(page).lower()
    if viewer_name == "third_user":
        assert "hidden by the host" in page  # the writer is told, in their own list

    assert not any(found.values()), found
    # The visible answers are shown: an empty page cannot pass for a clean one.
    assert "Brilliant" in api.get(f"/api/polls/{answered_poll.pk}/results").content.decode()


@pytest.mark.django_db
def test_the_author_lists_every_answer_with_its_hidden_mark_but_no_address(answered_poll, owner):
    response = bearer_client(owner).get(f"/api/polls/{answered_poll.pk}/answers")

    assert response.status_code == 200
    listed = response.json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {(row["text"], row["hidden"]) for row in rows} == {("Brilliant", False), (OTHERS_TEXT, False), (HIDDEN_TEXT, True)}
    assert [mark for mark in (ANON_ID, ANSWER_IP, "ip_address") if mark in response.content.decode()] == []


@pytest.mark.django_db
@pytest.mark.parametrize("viewer_name", ["other_user", "third_user"])
def test_another_users_decks_are_not_in_my_list(request, owner, viewer_name):
    poll = PollFactory(author=owner, title="Zebra question one")
    decks.create_deck(author=owner, title="Zebra talk", poll_ids=[poll.pk])

    response = bearer_client(request.getfixturevalue(viewer_name)).get("/api/decks?all=1")

    assert response.status_code == 200
    assert "zebra" not in response.content.decode().lower()
    assert "Zebra talk" in bearer_client(owner).get("/api/decks").content.decode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_hidden_answer_leaves_the_sockets_snapshot(sockets, answered_poll):
    socket = await sockets.open(f"/ws/poll/{answered_poll.pk}")

    snapshot = await receive(socket)

    assert snapshot["type"] == "results"
    assert "Brilliant" in json.dumps(snapshot)
    assert HIDDEN_TEXT.lower() not in json.dumps(snapshot).lower()
