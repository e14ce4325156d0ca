"""Personal API keys × every operation of the OpenAPI schema: what scope each operation needs, and that a key
with every other combination of scopes is refused with 403 insufficient_scope while one holding it is let through.

Safe methods need `read`; unsafe ones the scope their view names (accounts.api_keys). "none": no key may call it,
whatever its scopes (the account itself, the keys, signing in). A new operation without a row here fails.
"""

import json
import re
import uuid
from itertools import combinations

import pytest
from rest_framework.test import APIClient

from accounts import api_keys
from tests.security.conftest import bearer_client

pytestmark = pytest.mark.django_db

NEEDS = {
    # Accounts: reading one's profile is `read`; changing the account is for the person, signed in.
    "users_list": "read",
    "users_retrieve": "read",
    "users_polls_list": "read",
    "users_stats_retrieve": "read",
    "users_count_retrieve": "read",
    "users_me_retrieve": "read",
    "users_me_partial_update": "none",
    "users_me_destroy": "none",
    "users_me_export_retrieve": "none",
    "users_me_password_create": "none",
    "users_login_create": "none",
    "users_login_two_factor_create": "none",
    "users_password_reset_create": "none",
    "users_password_reset_confirm_create": "none",
    "users_email_confirm_create": "none",
    "users_me_email_resend_create": "none",
    "users_me_email_preferences_retrieve": "read",
    "users_me_email_preferences_partial_update": "none",
    "users_logout_create": "none",
    "users_register_create": "none",
    "users_token_refresh_create": "none",
    "keys_list": "none",
    "keys_create": "none",
    "keys_retrieve": "none",
    "keys_destroy": "none",
    "notifications_list": "read",
    "notifications_retrieve": "read",
    "notifications_read_create": "none",
    "notifications_read_all_create": "none",
    # Polls: reading is `read`; making and running them `manage_polls`; reports are filed by people.
    "oembed": "read",
    "polls_list": "read",
    "polls_retrieve": "read",
    "polls_popular_list": "read",
    "polls_recent_list": "read",
    "polls_search_list": "read",
    "polls_stats_retrieve": "read",
    "polls_trending_list": "read",
    "polls_code_retrieve": "read",
    "polls_results_retrieve": "read",
    "polls_ballots_list": "read",
    "polls_challenge_retrieve": "read",
    "polls_export_retrieve": "read",
    "polls_presentation_retrieve": "read",
    "polls_receipts_retrieve": "read",
    "polls_create": "manage_polls",
    "polls_update": "manage_polls",
    "polls_partial_update": "manage_polls",
    "polls_destroy": "manage_polls",
    "polls_activate_create": "manage_polls",
    "polls_deactivate_create": "manage_polls",
    "polls_hold_create": "manage_polls",
    "polls_hold_destroy": "manage_polls",
    "polls_presentation_create": "manage_polls",
    "polls_void_ballots_create": "manage_polls",
    "polls_report_create": "none",
    "polls_invites_list": "read",
    "polls_invites_export_retrieve": "read",
    "polls_invites_create": "manage_polls",
    "polls_invites_revoke_create": "manage_polls",
    "polls_invites_revoke_unused_create": "manage_polls",
    "polls_write_ins_list": "read",
    "polls_write_ins_create": "vote",
    "polls_write_ins_accept_create": "manage_polls",
    "polls_write_ins_reject_create": "manage_polls",
    "polls_answers_list": "read",
    "polls_answers_create": "vote",
    "polls_answers_destroy": "vote",
    "polls_answers_hide_create": "manage_polls",
    "decks_list": "read",
    "decks_retrieve": "read",
    "decks_code_retrieve": "read",
    "decks_create": "manage_polls",
    "decks_update": "manage_polls",
    "decks_partial_update": "manage_polls",
    "decks_destroy": "manage_polls",
    "decks_move_create": "manage_polls",
    # Voting: casting, changing and taking back votes and likes.
    "votes_retrieve": "read",
    "votes_poll_list": "read",
    "votes_poll_stats_retrieve": "read",
    "votes_user_list": "read",
    "votes_create": "vote",
    "votes_destroy": "vote",
    "votes_poll_update": "vote",
    "votes_poll_destroy": "vote",
    "likes_user_list": "read",
    "likes_create": "vote",
    "likes_destroy": "vote",
    "likes_poll_destroy": "vote",
    # Webhooks: reading an endpoint shows its signing secret, so every operation is `manage_polls`.
    **{
        f"webhooks_{operation}": "manage_polls"
        for operation in (
            "list", "create", "retrieve", "update", "partial_update", "destroy", "deliveries_list",
            "rotate_secret_create", "test_create", "deliveries_retrieve", "deliveries_redeliver_create",
        )
    },
}

SCOPE_SETS = [set(chosen) for size in (1, 2, 3) for chosen in combinations(api_keys.SCOPES, size)]


def schema_operations() -> dict[str, tuple[str, str]]:
    response = bearer_client().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }


def filled(path: str) -> str:
    """The path with made-up ids: the scope is checked before anything is looked up."""
    return re.sub(r"\{[^}]+\}", lambda match: "ABCDEF" if match.group() == "{code}" else str(uuid.uuid4()), path)


def test_every_operation_of_the_schema_has_a_row():
    operations = set(schema_operations())
    assert operations - set(NEEDS) == set(), "operations without a row: say what scope a key needs"
    assert set(NEEDS) - operations == set(), "rows for operations the schema does not have"
    assert set(NEEDS.values()) <= {*api_keys.SCOPES, "none"}


def test_each_scope_combination_is_refused_or_let_through_as_the_row_says(owner):
    # One test over every cell: a test's setup per operation costs more than the operation's seven requests.
    clients = {}
    for scopes in SCOPE_SETS:
        _key, secret = api_keys.create_api_key(user=owner, name=" ".join(sorted(scopes)), scopes=sorted(scopes))
        clients[" ".join(sorted(scopes))] = client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    wrong = {}
    for operation_id, (method, path) in sorted(schema_operations().items()):
        needed = NEEDS[operation_id]
        for scopes, client in clients.items():
            response = getattr(client, method.lower())(filled(path), {}, format="json")
            refused = response.status_code == 403 and response.json().get("code") == "insufficient_scope"
            expected = "let through" if needed in scopes.split() else "refused"
            outcome = "refused" if refused else "let through"
            if outcome != expected or response.status_code == 401 or response.status_code >= 500:
                wrong[f"{method} {path} with [{scopes}]"] = f"{response.status_code} {response.content[:120]!r}"
    assert wrong == {}
