"""PollFilter: one filter for the browse page (/polls/) and the API's list (/api/polls), the same answers on both."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from polls.models import Poll
from polls.tests.factories import PollFactory
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import field_errors, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def assorted(owner, other_user):
    """Open, closed by hand, expired and closing later (by owner), multiple choice (by other_user), unlisted."""
    PollFactory(author=owner, title="Open breakfast")
    closed = PollFactory(author=owner, title="Closed lunch")
    expired = PollFactory(author=owner, title="Expired breakfast", expires_at=timezone.now() + timedelta(hours=1))
    PollFactory(author=owner, title="Dinner closes later", expires_at=timezone.now() + timedelta(hours=1))
    PollFactory(author=other_user, title="Multi breakfast", allow_multiple=True)
    PollFactory(author=owner, title="Unlisted breakfast", is_public=False)
    Poll.objects.filter(pk=closed.pk).update(is_active=False)
    Poll.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def on_the_page(query: str) -> set[str]:
    response = Client().get(f"/polls/?{query}")
    assert response.status_code == 200, response.content
    return set(re.findall(r'<article class="card">\s*<h3><a href="[^"]*">(.*?)</a>', response.content.decode()))


def in_the_api(api_client, query: str) -> set[str]:
    response = api_client.get(f"/api/polls?{query}")
    assert response.status_code == 200, response.content
    return {poll["title"] for poll in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"Open breakfast", "Closed lunch", "Expired breakfast", "Dinner closes later", "Multi breakfast"}),
        ("q=breakfast", {"Open breakfast", "Expired breakfast", "Multi breakfast"}),
        ("q=+", {"Open breakfast", "Closed lunch", "Expired breakfast", "Dinner closes later", "Multi breakfast"}),
        ("status=open", {"Open breakfast", "Dinner closes later", "Multi breakfast"}),
        ("status=closed", {"Closed lunch", "Expired breakfast"}),
        ("status=", {"Open breakfast", "Closed lunch", "Expired breakfast", "Dinner closes later", "Multi breakfast"}),
        ("multiple=1", {"Multi breakfast"}),
        ("multiple=false", {"Open breakfast", "Closed lunch", "Expired breakfast", "Dinner closes later"}),
        ("active=false", {"Closed lunch"}),
        ("expired=true", {"Expired breakfast"}),
        ("author={other}", {"Multi breakfast"}),
        ("q=breakfast&status=open", {"Open breakfast", "Multi breakfast"}),
        ("q=breakfast&status=closed&author={owner}", {"Expired breakfast"}),
        ("status=open&multiple=1", {"Multi breakfast"}),
    ],
)
def test_the_page_and_the_api_filter_alike(api_client, owner, other_user, assorted, query, expected):
    query = query.format(owner=owner.pk, other=other_user.pk)

    assert on_the_page(query) == in_the_api(api_client, query) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=maybe", "status"), ("multiple=2", "multiple"), ("q=" + "x" * 201, "q"), ("expired=xx", "expired")],
)
def test_a_bad_value_is_a_400_invalid_on_the_api(api_client, assorted, query, field):
    assert_error(api_client.get(f"/api/polls?{query}"), 400, "invalid", fields={field})


@pytest.mark.parametrize(("query", "field"), [("status=maybe", "status"), ("method=plurality", "method"), ("q=" + "x" * 201, "q")])
def test_a_bad_value_on_the_page_is_shown_beside_its_input(assorted, query, field):
    response = Client().get(f"/polls/?{query}")

    assert response.status_code == 400
    assert field_errors(response, field)
    assert "<h1>" in response.content.decode()


def test_a_bad_value_the_page_has_no_input_for_is_shown_above_the_form_and_the_rest_still_filters(assorted):
    response = Client().get("/polls/?expired=xx&status=closed")

    assert response.status_code == 400
    assert "expired: Use true or false." in text(response)
    assert {"Closed lunch", "Expired breakfast"} == set(
        re.findall(r'<article class="card">\s*<h3><a href="[^"]*">(.*?)</a>', response.content.decode())
    )


def test_the_page_keeps_the_chosen_filters_in_its_form(assorted):
    html = Client().get("/polls/?q=breakfast&status=closed&method=approval").content.decode()

    assert 'name="q" value="breakfast"' in html
    assert '<option value="closed" selected>' in html
    assert '<option value="approval" selected>' in html
