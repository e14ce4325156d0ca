"""Attacks on look-alike names that once got through, each pinned here."""

import pytest

from accounts.tests.factories import UserFactory
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "display_name",
    [
        "al\u200bice",  # zero-width space
        "al\u00adice",  # soft hyphen
        "alic\u200de",  # zero-width joiner
        "\u202ealice",  # right-to-left override
        "ali\u2060ce",  # word joiner
        "al\ufeffice",  # zero-width no-break space
        "ali\u034fce",  # combining grapheme joiner
        "alice\ufe0f",  # variation selector
        "al\u3164ice",  # Hangul filler
    ],
)
def test_invisible_characters_do_not_get_a_look_alike_display_name_past(other_client, other_user, display_name):
    """The attack: a display name with an invisible character inside reads "alice" and was accepted."""
    UserFactory(username="alice")

    response = other_client.patch("/api/users/me", {"display_name": display_name}, format="json")

    assert_error(response, 409, "confusable_display_name", fields={"display_name"})


@pytest.mark.parametrize("username", ["al\u3164ice", "alice\u3164", "al\uffa0ice", "ali\u034fce", "alice\ufe0f"])
def test_invisible_letters_do_not_get_a_look_alike_username_past(api_client, username):
    """The attack: a Hangul filler is a letter to the username rules, shows as nothing, and "al\u3164ice"
    was registered beside "alice"."""
    UserFactory(username="alice")

    response = api_client.post(
        "/api/users/register", {"username": username, "email": "new@example.org", "password": "a-long-passphrase-9"}, format="json"
    )

    assert response.status_code in (400, 409), response.content
