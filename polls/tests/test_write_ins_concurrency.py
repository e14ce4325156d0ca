"""Suggestions racing on one poll, with real threads against PostgreSQL: the poll's row lock decides them one after
the other, so the option limit holds, positions never collide and one text is suggested once."""

from collections import Counter

import pytest
from django.db import connection

from polls import errors, services
from polls.models import MAX_OPTIONS, Option, WriteIn
from polls.tests.factories import PollFactory, visitor
from polls.tests.test_api_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency needs PostgreSQL's row locks and concurrent writers; set DATABASE_URL to run it",
    ),
    pytest.mark.django_db(transaction=True),
]


def attempt(work):
    """work(index), or the refusal it raised: a refusal is an outcome to count here."""

    def run(index: int):
        try:
            return work(index)
        except errors.PollError as exc:
            return exc

    return run


def outcomes(results) -> Counter:
    return Counter(type(result).__name__ for result in results)


@pytest.mark.parametrize("need_approval", [True, False])
def test_suggestions_racing_for_the_last_place_never_pass_the_limit(owner, need_approval):
    poll = PollFactory(
        author=owner,
        options=[f"Option {n}" for n in range(MAX_OPTIONS - 1)],
        allow_write_ins=True,
        write_ins_need_approval=need_approval,
    )

    results = run_together(
        12, attempt(lambda index: services.suggest_option(poll=poll, voter=visitor(index), text=f"Suggestion {index}"))
    )

    assert outcomes(results) == {"WriteIn": 1, "OptionLimitReached": 11}
    options = list(Option.objects.filter(poll=poll).values_list("position", flat=True))
    waiting = WriteIn.objects.filter(poll=poll).pending().count()
    assert len(options) + waiting == MAX_OPTIONS
    assert len(set(options)) == len(options)


def test_immediate_suggestions_at_once_take_distinct_positions(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, write_ins_need_approval=False)

    results = run_together(
        10, attempt(lambda index: services.suggest_option(poll=poll, voter=visitor(index), text=f"Dish {index}"))
    )

    assert outcomes(results) == {"WriteIn": 10}
    positions = sorted(Option.objects.filter(poll=poll).values_list("position", flat=True))
    assert positions == list(range(12))


def test_one_text_suggested_at_once_by_many_is_suggested_once(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True)

    def suggest(index: int):
        return services.suggest_option(poll=poll, voter=visitor(index), text=" tacos " if index % 2 else "Tacos")

    results = run_together(10, attempt(suggest))

    assert outcomes(results) == {"WriteIn": 1, "AlreadySuggested": 9}
    assert WriteIn.objects.filter(poll=poll).count() == 1


def test_accepting_while_others_suggest_keeps_the_limit(owner):
    poll = PollFactory(author=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS - 2)], allow_write_ins=True)
    first = services.suggest_option(poll=poll, voter=visitor(100), text="Waiting")

    def work(index: int):
        if index == 0:
            return services.accept_write_in(write_in=first, actor=owner)
        return services.suggest_option(poll=poll, voter=visitor(index), text=f"Suggestion {index}")

    results = run_together(8, attempt(work))

    assert outcomes(results) == {"WriteIn": 2, "OptionLimitReached": 6}
    assert Option.objects.filter(poll=poll).count() + WriteIn.objects.filter(poll=poll).pending().count() == MAX_OPTIONS
    assert isinstance(results[0], WriteIn) and results[0].status == WriteIn.Status.ACCEPTED
