"""A Python client generated from QuickPoll's OpenAPI schema by a standard generator, used as a client would.

openapi-python-client (the generator many API clients reach for) builds a package from /api/schema; the
test imports it and runs a short session against a live server: sign up, create polls, vote, be refused
with a machine-readable code, read the results, walk the pages of a list. A schema that drifts from what
the generator can use (several bodies per operation, unnamed operations, a shape the answers do not
have) fails here.
"""

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

GENERATOR_CONFIG = "post_hooks: []\n"  # the generator would run ruff over its output; nothing here needs it


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The `quickpoll_client` package generated from the schema this code serves."""
    where = tmp_path_factory.mktemp("client")
    schema, config = where / "schema.json", where / "config.yaml"
    call_command("spectacular", "--file", str(schema), "--format", "openapi-json", "--validate", "--fail-on-warn")
    config.write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [str(generator), "generate", "--path", str(schema), "--meta", "none", "--config", str(config),
         "--output-path", str(where / "quickpoll_client")],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("quickpoll_client")
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.partition(".")[0] == "quickpoll_client"]:
            del sys.modules[name]


def call(module_path, **kwargs):
    return importlib.import_module(f"quickpoll_client.api.{module_path}").sync_detailed(**kwargs)


def test_a_generated_client_signs_up_creates_votes_reads_and_pages(generated, live_server):
    from quickpoll_client.models import PollWriteRequest, RegisterRequest, VoteCreateRequest

    name = f"client{uuid.uuid4().hex[:8]}"
    anonymous = generated.Client(base_url=live_server.url)
    signed_up = call(
        "accounts.users_register_create",
        client=anonymous,
        body=RegisterRequest(username=name, email=f"{name}@example.com", password="a long passphrase 42"),
    )
    assert signed_up.status_code == 201, signed_up.content
    client = generated.AuthenticatedClient(base_url=live_server.url, token=signed_up.parsed.access)

    polls = []
    for title in ("Lunch", "Dinner", "Breakfast"):
        created = call("polls.polls_create", client=client, body=PollWriteRequest(title=title, options=["Soup", "Salad"]))
        assert created.status_code == 201, created.content
        polls.append(created.parsed)
    poll = polls[0]
    assert [option.text for option in poll.options] == ["Soup", "Salad"]

    salad = poll.options[1].id
    voted = call("votes.votes_create", client=client, body=VoteCreateRequest(poll_id=poll.id, option_ids=[salad]))
    assert voted.status_code == 201, voted.content
    assert [vote.option_id for vote in voted.parsed.votes] == [salad]

    again = call("votes.votes_create", client=client, body=VoteCreateRequest(poll_id=poll.id, option_ids=[salad]))
    assert again.status_code == 409
    assert again.parsed.code == "already_voted"

    results = call("polls.polls_results_retrieve", id=str(poll.id), client=client)
    assert results.status_code == 200, results.content
    assert results.parsed.total_votes == 1
    assert {option.text: option.votes for option in results.parsed.options} == {"Soup": 0, "Salad": 1}

    seen, page = [], 1
    while True:
        listed = call("polls.polls_list", client=client, author=signed_up.parsed.user.id, page=page, page_size=2)
        assert listed.status_code == 200, listed.content
        assert listed.parsed.count == 3
        seen += [listed_poll.title for listed_poll in listed.parsed.results]
        if not listed.parsed.next_:
            break
        page += 1
    assert page == 2 and sorted(seen) == ["Breakfast", "Dinner", "Lunch"]

    missing = call("polls.polls_retrieve", id=str(uuid.uuid4()), client=client)
    assert missing.status_code == 404
    assert missing.parsed.code == "not_found"
