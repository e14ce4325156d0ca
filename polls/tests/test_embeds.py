"""The embed page (/embed/<slug>): framing per poll, anonymous voting without cookies, every voting method;
oEmbed; the link-preview tags and picture."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from polls import previews, services
from polls.models import Ballot, Poll
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import ANON_COOKIE, voter_from_scope

pytestmark = pytest.mark.django_db

ANON = "embed-visitor-0000001"


def _policy(response) -> dict[str, str]:
    parts = [part.strip() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in parts}


def _id(poll, text) -> str:
    return str(pick(poll, text)[0])


def _embed(poll):
    return reverse("poll-embed", kwargs={"ref": poll.slug})


def _vote_url(poll):
    return reverse("poll-embed-vote", kwargs={"ref": poll.slug})


# --- Framing ------------------------------------------------------------------------------------------------


def test_any_site_may_frame_the_embed_by_default(client, poll):
    response = client.get(_embed(poll))
    assert response.status_code == 200
    assert _policy(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response
    # Only framing is loosened: scripts and styles stay our own files, nothing inline.
    assert _policy(response)["script-src"] == "'self'" and _policy(response)["style-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_polls_sites_become_the_embeds_frame_ancestors(client, owner):
    poll = PollFactory(author=owner, embed_origins=["https://blog.example.org", "https://*.example.net"])
    response = client.get(_embed(poll))
    assert _policy(response)["frame-ancestors"] == "https://blog.example.org https://*.example.net"
    vote = client.post(_vote_url(poll), {"option": _id(poll, "Red")})
    assert _policy(vote)["frame-ancestors"] == "https://blog.example.org https://*.example.net"


@pytest.mark.parametrize("name", ["poll-detail", "poll-share"])
def test_every_other_page_of_the_poll_still_refuses_frames(client, poll, name):
    response = client.get(reverse(name, kwargs={"ref": poll.slug}))
    assert _policy(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_a_malformed_site_is_refused_with_its_field(owner_client):
    response = owner_client.post(
        "/api/polls",
        {"title": "Embed?", "options": ["Yes", "No"], "embed_origins": ["https://ok.example.org/", "javascript:alert(1)"]},
        format="json",
    )
    assert response.status_code == 400
    assert "embed_origins" in response.json()["fields"]


def test_sites_are_stored_as_origins(owner_client):
    response = owner_client.post(
        "/api/polls",
        {"title": "Embed?", "options": ["Yes", "No"], "embed_origins": ["HTTPS://Blog.Example.org/", "http://localhost:8000"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["embed_origins"] == ["https://blog.example.org", "http://localhost:8000"]


def test_the_edit_page_sets_the_sites(client, owner, poll):
    client.force_login(owner)
    page = client.get(reverse("poll-edit", kwargs={"ref": poll.slug}))
    assert 'name="embed_origins"' in page.content.decode()
    form = {
        "title": poll.title,
        "options": ["Red", "Green", "Blue"],
        "method": "single",
        "results_visibility": "always",
        "is_public": "on",
        "allow_anonymous": "on",
        "bot_protection": "adaptive",
        "embed_origins": "https://blog.example.org\nhttps://news.example.org",
    }
    client.post(reverse("poll-edit", kwargs={"ref": poll.slug}), form)
    poll.refresh_from_db()
    assert poll.embed_origins == ["https://blog.example.org", "https://news.example.org"]


# --- Voting without cookies ----------------------------------------------------------------------------------


def test_a_framed_vote_needs_no_cookie_and_hands_back_its_voter(poll):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # a framed page has no CSRF cookie to send
    response = client.post(_vote_url(poll), {"option": _id(poll, "Red")})
    assert response.status_code == 200
    assert "Your vote is in." in response.content.decode()
    issued = response["X-Anon-Id"]
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.user is None and ballot.anon_id == issued
    assert ANON_COOKIE not in response.cookies  # the id travels in the header the page's script keeps

    again = client.post(_vote_url(poll), {"option": _id(poll, "Blue")}, headers={"X-Anon-Id": issued})
    assert again.status_code == 409
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_the_embed_shows_the_voter_named_by_the_header(client, owner):
    poll = PollFactory(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    before = client.get(_embed(poll), headers={"X-Anon-Id": ANON}).content.decode()
    assert "Results show once you have voted." in before
    client.post(_vote_url(poll), {"option": _id(poll, "Green")}, headers={"X-Anon-Id": ANON})
    after = client.get(_embed(poll), headers={"X-Anon-Id": ANON})
    assert "You have voted." in after.content.decode()
    assert after.context["results"] is not None
    assert "X-Anon-Id" in after["Vary"]


def test_a_signed_in_session_is_not_read_by_the_embed(client, owner, poll):
    """A post from any site could carry the session's cookie: the embed votes as its anonymous voter only."""
    client.force_login(owner)
    client.post(_vote_url(poll), {"option": _id(poll, "Red")}, headers={"X-Anon-Id": ANON})
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.user is None and ballot.anon_id == ANON


def test_a_members_poll_sends_voters_to_its_page(client, owner):
    poll = PollFactory(author=owner, allow_anonymous=False)
    page = client.get(_embed(poll)).content.decode()
    assert "Vote on the poll" in page and 'class="vote-form"' not in page
    refused = client.post(_vote_url(poll), {"option": _id(poll, "Red")})
    assert refused.status_code == 401
    assert not Ballot.objects.filter(poll=poll).exists()


def test_the_bot_defence_asks_framed_voters_too(client, owner):
    poll = PollFactory(author=owner, bot_protection=Poll.BotProtection.ALWAYS)
    page = client.get(_embed(poll)).content.decode()
    assert "data-altcha-challenge" in page
    refused = client.post(_vote_url(poll), {"option": _id(poll, "Red")}, headers={"X-Anon-Id": ANON})
    assert refused.status_code == 428
    assert "puzzle" in refused.content.decode()
    assert not Ballot.objects.filter(poll=poll).exists()


def test_a_refused_ballot_keeps_the_marks(client, owner):
    poll = PollFactory(author=owner, allow_multiple=True, max_choices=1)
    response = client.post(_vote_url(poll), {"option": [_id(poll, "Red"), _id(poll, "Blue")]}, headers={"X-Anon-Id": ANON})
    assert response.status_code == 400
    assert response.context["vote_error"]
    assert set(response.context["checked"]) == {_id(poll, "Red"), _id(poll, "Blue")}


@pytest.mark.parametrize(
    ("method", "form"),
    [
        ("approval", lambda poll: {"option": [_id(poll, "Red"), _id(poll, "Blue")]}),
        ("ranked", lambda poll: {f"rank-{_id(poll, 'Blue')}": "1", f"rank-{_id(poll, 'Red')}": "2"}),
        ("score", lambda poll: {f"score-{_id(poll, 'Red')}": "4", f"score-{_id(poll, 'Green')}": "1"}),
    ],
)
def test_every_method_votes_in_the_embed(client, owner, method, form):
    poll = PollFactory(author=owner, method=method)
    response = client.post(_vote_url(poll), form(poll), headers={"X-Anon-Id": ANON})
    assert response.status_code == 200, response.context.get("vote_error")
    assert Ballot.objects.filter(poll=poll, anon_id=ANON).exists()
    assert response.context["results"] is not None  # the method's own results, shown at once


def test_an_open_text_poll_takes_answers_in_the_embed(client, owner):
    poll = PollFactory(author=owner, method="text", options=[])
    response = client.post(_vote_url(poll), {"answer": "Pizza"}, headers={"X-Anon-Id": ANON})
    assert response.status_code == 200
    assert "Your answer is in." in response.content.decode()
    assert poll.answers.filter(anon_id=ANON, text="Pizza").exists()


def test_a_socket_names_its_anonymous_voter_as_a_subprotocol():
    voter = voter_from_scope({"subprotocols": ["anon", ANON], "headers": []})
    assert voter is not None and voter.anon_id == ANON
    assert voter_from_scope({"subprotocols": ["anon", "short"], "headers": []}) is None


# --- oEmbed --------------------------------------------------------------------------------------------------


def test_oembed_answers_a_rich_iframe(api_client, poll):
    url = f"http://testserver/p/{poll.slug}/"
    response = api_client.get("/api/oembed", {"url": url, "maxwidth": 400})
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "rich" and body["version"] == "1.0"
    assert body["width"] == 400 and body["height"] == 520
    assert f'src="http://testserver/embed/{poll.slug}"' in body["html"]
    assert body["thumbnail_url"] == f"http://testserver/polls/{poll.slug}/preview.png"
    assert body["title"] == poll.title


def test_oembed_knows_the_embed_url_and_the_short_link(api_client, poll):
    for url in (f"http://testserver/embed/{poll.slug}", f"http://testserver/p/{poll.pk}/"):
        assert api_client.get("/api/oembed", {"url": url}).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["https://elsewhere.example.org/p/{slug}/", "http://testserver/p/no-such-poll/", "http://testserver/polls/", "not a url"],
)
def test_oembed_refuses_what_is_not_our_poll(api_client, poll, url):
    response = api_client.get("/api/oembed", {"url": url.format(slug=poll.slug)})
    assert response.status_code in (400, 404)
    assert response.json()["code"] in ("not_found", "invalid")


def test_oembed_speaks_json_only(api_client, poll):
    response = api_client.get("/api/oembed", {"url": f"http://testserver/p/{poll.slug}/", "format": "xml"})
    assert response.status_code == 501
    assert response.json()["code"] == "format_not_supported"


# --- Link previews -------------------------------------------------------------------------------------------


def test_the_poll_page_announces_its_embed_and_picture(client, poll):
    page = client.get(reverse("poll-detail", kwargs={"ref": poll.slug})).content.decode()
    assert 'type="application/json+oembed"' in page
    assert f'content="http://testserver/polls/{poll.slug}/preview.png"' in page
    assert 'name="twitter:card" content="summary_large_image"' in page
    assert f'property="og:title" content="{poll.title}"' in page


def test_the_share_panel_gives_the_embed_snippet(client, poll):
    page = client.get(reverse("poll-share", kwargs={"ref": poll.slug})).content.decode()
    assert "Embed on a website" in page
    assert f"&lt;iframe src=&quot;http://testserver/embed/{poll.slug}&quot;" in page


def _picture(client, poll):
    response = client.get(reverse("poll-preview", kwargs={"ref": poll.slug}))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (previews.WIDTH, previews.HEIGHT)
    return response


def test_a_vote_changes_a_visible_polls_picture(client, poll):
    before = _picture(client, poll)
    services.cast_vote(poll=poll, voter=visitor(), option_ids=pick(poll, "Red"))
    after = _picture(client, poll)
    assert before["ETag"] != after["ETag"] and before.content != after.content


def test_a_hidden_polls_picture_tells_nothing_of_the_votes(client, owner):
    hidden = PollFactory(author=owner, title="Secret plans?", results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    before = _picture(client, hidden)
    services.cast_vote(poll=hidden, voter=visitor(), option_ids=pick(hidden, "Red"))
    after = _picture(client, hidden)
    assert before.content == after.content  # the same picture with or without votes
    assert previews._rows(Poll.objects.get(pk=hidden.pk), visible=False)[0][0].share is None


def test_the_picture_is_drawn_once_per_results_version(client, poll, monkeypatch):
    drawn = []
    real = previews.draw_preview
    monkeypatch.setattr(previews, "draw_preview", lambda poll, **kwargs: drawn.append(1) or real(poll, **kwargs))
    first = _picture(client, poll)
    _picture(client, poll)
    assert len(drawn) == 1
    unchanged = client.get(reverse("poll-preview", kwargs={"ref": poll.slug}), headers={"If-None-Match": first["ETag"]})
    assert unchanged.status_code == 304
