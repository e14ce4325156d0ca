"""Schemathesis against our own OpenAPI schema: every operation, anonymous and signed in, and chains of calls.

The schema is the one clients download (/api/schema); the app is called in-process through
Django's WSGI handler, in the test's thread and database transaction. Each generated case
runs in a savepoint that is rolled back, so every case meets the same seeded world: polls
with votes, likes and a report, and the notifications they sent their author. Half the
path ids, X-Anon-Id headers and some request bodies point at that world, so 2xx answers
are checked against the schema as well as 4xx ones. The stateful test follows the links
schemathesis infers from the schema (a listed poll's id into a vote, a report, ...).

Checks: no 5xx, and every status code, content type, body and header as documented.
The module ends with one line for CI: "fuzz: N cases over M operations, ...".
"""

import logging
import os
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
import hypothesis
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Notification
from accounts.tests.factories import PASSWORD, UserFactory
from polls import services
from polls.models import Like, Vote
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from tests.ci_summary import summarise

# One worker runs the whole module, so that test_summary, last, sees every case.
pytestmark = pytest.mark.xdist_group("fuzz")

# Per operation and identity, on top of the coverage phase's own cases: the module takes about a minute.
# FUZZ_MAX_EXAMPLES=200 digs deeper before a release.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
STATEFUL_SETTINGS = hypothesis.settings(FUZZ_SETTINGS, max_examples=50, stateful_step_count=6)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Werkzeug's test client leaves REMOTE_ADDR out; servers always set it, and rate limits and ballots read it.
CLIENT = {"environ_base": {"REMOTE_ADDR": "203.0.113.50"}}
ANON_ID = "fuzz-visitor-0000000001"

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi(
    "/api/schema", APP, headers={"Accept": "application/vnd.oai.openapi+json"}, **CLIENT
)


# --- The seeded world, and hooks that aim cases at it ----------------------------------------------------------


@dataclass
class World:
    ids: dict[str, list[str]] = field(default_factory=dict)  # object kind -> ids
    bodies: dict[str, list[dict]] = field(default_factory=dict)  # operation label -> request bodies
    access: str = ""  # the owner's access token


WORLD = World()

# Which kind of object a path parameter names: by its name, or for "id" by the collection it is in.
_KIND_BY_PARAMETER = {"poll_id": "poll", "user_id": "user", "code": "receipt"}
_KIND_BY_COLLECTION = {
    "polls": "poll",
    "users": "user",
    "votes": "vote",
    "likes": "like",
    "notifications": "notification",
}


def _kind(path: str, parameter: str) -> str | None:
    if parameter in _KIND_BY_PARAMETER:
        return _KIND_BY_PARAMETER[parameter]
    return _KIND_BY_COLLECTION.get(path.split("/")[2]) if parameter == "id" else None


def _sometimes(generated, real: list):
    """The generated value half the time, one of the real ones otherwise."""
    return st.one_of(st.just(generated), st.sampled_from(real)) if real else st.just(generated)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    kinds = {name: _kind(context.operation.path, name) for name in path_parameters}
    real = [{**path_parameters, name: id_} for name, kind in kinds.items() for id_ in WORLD.ids.get(kind, [])]
    return _sometimes(path_parameters, real)


@schema.hook
def flatmap_headers(context, headers):
    if not any(parameter.name == "X-Anon-Id" for parameter in context.operation.headers):
        return st.just(headers)
    return _sometimes(headers, [{**(headers or {}), "X-Anon-Id": ANON_ID}])


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    return _sometimes(body, WORLD.bodies.get(context.operation.label, []))


@pytest.fixture
def world(db, settings, tmp_path):
    """Two users and their polls, with votes, likes, a report and the notifications they sent."""
    settings.MEDIA_ROOT = tmp_path  # avatar uploads
    settings.ANONYMOUS_BALLOTS_PER_IP = 1  # the visitor's ballot uses it up: other visitors meet anonymous_limit
    owner = UserFactory(username="fuzz-owner")
    other = UserFactory(username="fuzz-other")
    poll = PollFactory(author=owner, title="Cats or dogs?", options=["Cats", "Dogs"])
    unlisted = PollFactory(author=owner, title="Only for me", is_public=False, results_visibility="owner_only")
    multiple = PollFactory(author=other, title="Colours you like", allow_multiple=True, max_choices=2)
    closed = PollFactory(author=other, title="Closed already", results_visibility="after_close")
    services.set_poll_active(poll=closed, actor=other, active=False)

    other_voter, visitor = Voter(user=other), Voter(anon_id=ANON_ID, ip_address=CLIENT["environ_base"]["REMOTE_ADDR"])
    services.cast_vote(poll=poll, voter=other_voter, option_ids=pick(poll, "Cats"))
    services.cast_vote(poll=poll, voter=visitor, option_ids=pick(poll, "Dogs"))
    services.cast_vote(poll=multiple, voter=Voter(user=owner), option_ids=pick(multiple, "Red", "Blue"))
    services.like_poll(poll=poll, voter=other_voter)
    services.like_poll(poll=poll, voter=visitor)
    services.like_poll(poll=multiple, voter=Voter(user=owner))
    services.report_poll(poll=poll, reporter=other, reason="spam")
    secret = PollFactory(author=owner, title="Secret ballot", is_secret=True)
    counted = PollFactory(author=other, title="Secret and counted", is_secret=True, allow_multiple=True)
    receipts = [
        services.cast_vote(poll=secret, voter=other_voter, option_ids=pick(secret, "Red")).receipt,
        services.cast_vote(poll=counted, voter=Voter(user=owner), option_ids=pick(counted, "Red", "Blue")).receipt,
    ]
    services.set_poll_active(poll=counted, actor=other, active=False)

    polls = [poll, unlisted, multiple, closed, secret, counted]
    refresh = RefreshToken.for_user(owner)
    WORLD.ids = {
        "poll": [str(p.pk) for p in polls],
        "user": [str(owner.pk), str(other.pk)],
        "vote": [str(pk) for pk in Vote.objects.values_list("pk", flat=True)],
        "like": [str(pk) for pk in Like.objects.values_list("pk", flat=True)],
        "notification": [str(pk) for pk in Notification.objects.values_list("pk", flat=True)],
        "receipt": receipts,
    }
    WORLD.bodies = {
        "POST /api/votes": [
            {"poll_id": str(p.pk), "option_ids": [str(pk) for pk in p.options.values_list("pk", flat=True)[:count]]}
            for p in polls
            for count in (1, 2)
        ],
        "POST /api/likes": [{"poll_id": str(p.pk)} for p in polls],
        "PUT /api/polls/{id}": [{"title": "Cats, dogs or fish?", "options": ["Cats", "Dogs", "Fish"]}],
        "PATCH /api/polls/{id}": [{"title": "Renamed"}, {"results_visibility": "after_vote", "max_choices": None}],
        "POST /api/users/login": [
            {"username": "fuzz-owner", "password": PASSWORD},
            {"username": owner.email, "password": PASSWORD},
        ],
        "POST /api/users/token/refresh": [{"refresh": str(refresh)}],
        "POST /api/users/logout": [{"refresh": str(refresh)}],
        "POST /api/users/me/password": [{"current_password": PASSWORD, "new_password": "a-New-pw-4567"}],
    }
    WORLD.access = str(refresh.access_token)
    yield WORLD
    WORLD.ids, WORLD.bodies, WORLD.access = {}, {}, ""


@pytest.fixture
def in_process_requests():
    # As Django's test client does: a request must not close the test's connection mid-transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Thousands of requests log two lines each and a warning per 4xx; errors (a 500) still show.
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# --- Counting and checking ----------------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    operations: set = field(default_factory=set)
    server_errors: int = 0
    violations: Counter = field(default_factory=Counter)  # "operation: failure" -> how many


TALLY = Tally()


def check(case, response, headers: dict | None) -> None:
    TALLY.cases += 1
    TALLY.operations.add(case.operation.label)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        if any(isinstance(failure, ServerError) for failure in group.exceptions):
            TALLY.server_errors += 1  # its status is undocumented too: counted once, as what it is
        else:
            for failure in group.exceptions:
                TALLY.violations[f"{case.operation.label}: {failure.title}"] += 1
        raise


def call_and_check(case, headers: dict | None = None) -> None:
    """One case in a savepoint that is rolled back, so the next case meets the same world."""
    with transaction.atomic():
        try:
            check(case, case.call(headers=headers, **CLIENT), headers)
        finally:
            transaction.set_rollback(True)


def signed_in() -> dict:
    return {"Authorization": f"Bearer {WORLD.access}"}


# --- The runs -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_process_requests", "world")
@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous(case):
    call_and_check(case)


@pytest.mark.usefixtures("in_process_requests", "world")
@schema.parametrize()
@FUZZ_SETTINGS
def test_signed_in(case):
    call_and_check(case, headers=signed_in())


class Workflows(schema.as_state_machine()):
    """Signed in, along the links: each scenario's writes are rolled back when it ends."""

    def setup(self):
        self._scenario = transaction.atomic()
        self._scenario.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self._scenario.__exit__(None, None, None)

    def get_call_kwargs(self, case):
        return {"headers": signed_in(), **CLIENT}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        check(case, response, kwargs.get("headers"))


@pytest.mark.usefixtures("in_process_requests", "world")
def test_stateful():
    Workflows.run(settings=STATEFUL_SETTINGS)


def test_summary(request):
    if not TALLY.cases:
        pytest.skip("no fuzz case ran (deselected)")
    violations = sum(TALLY.violations.values())
    line = (
        f"fuzz: {TALLY.cases} cases over {len(TALLY.operations)} operations, "
        f"{TALLY.server_errors} server errors, {violations} schema violations"
    )
    summarise(request, line)
    assert (TALLY.server_errors, dict(TALLY.violations)) == (0, {})
    runs = [item for item in request.session.items if item.originalname in {"test_anonymous", "test_signed_in"}]
    if len(runs) == 2 * len(schema):  # the whole module ran: no operation may go unfuzzed
        assert len(TALLY.operations) == len(schema)
