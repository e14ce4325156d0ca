"""Secret ballots under races, with real threads against PostgreSQL: counts exact, equal to the sealed
ballots, and nothing in the rows (not even PostgreSQL's own columns) tying a choice to a voter once resealed."""

from collections import Counter

from django.db import connection

from accounts.tests.factories import UserFactory
from polls import errors, secret_ballots, services
from polls.models import Ballot, Option, Poll, SealedBallot, Vote
from polls.tests.factories import PollFactory, pick, visitor
# The same marks (PostgreSQL only, real transactions), connection pool and thread harness as the other races.
from polls.tests.test_api_concurrency import (  # noqa: F401
    client_for,
    connection_per_thread,
    outcome,
    pytestmark,
    run_together,
)
from polls.voters import Voter

TEXTS = ["Red", "Green", "Blue"]


def assert_sealed_counts_exact(poll: Poll, ballots: int) -> None:
    poll.refresh_from_db()
    sealed = list(SealedBallot.objects.filter(poll=poll))
    picks = Counter(option_id for row in sealed for option_id in row.option_ids)
    counts = {str(pk): count for pk, count in Option.objects.filter(poll=poll).values_list("pk", "vote_count")}
    assert len(sealed) == Ballot.objects.filter(poll=poll).count() == ballots
    assert poll.total_votes == sum(picks.values()) == sum(counts.values())
    assert counts == {option_id: picks[option_id] for option_id in counts}
    assert not Vote.objects.filter(poll=poll).exists()
    assert len({row.receipt for row in sealed}) == len(sealed)


def test_two_hundred_secret_voters_at_once_are_all_counted_and_sealed(owner):
    poll = PollFactory(author=owner, is_secret=True, allow_multiple=True, max_choices=2)
    # Half accounts, half anonymous visitors on addresses of their own (clear of the per-address cap).
    callers = [(client_for(UserFactory(username=f"secret{number}")), {}) for number in range(100)] + [
        (client_for(), {"HTTP_X_ANON_ID": f"secret-anon-{number:08d}", "REMOTE_ADDR": f"10.2.0.{number % 200 + 1}"})
        for number in range(100)
    ]
    # One option or two, in turn.
    bodies = [
        {"poll_id": str(poll.pk), "option_ids": [str(pk) for pk in pick(poll, *TEXTS[number % 3 : number % 3 + 1 + number % 2])]}
        for number in range(200)
    ]

    def cast_five(thread_index: int) -> list:
        answers = []
        for number in range(thread_index * 5, thread_index * 5 + 5):
            client, headers = callers[number]
            response = client.post("/api/votes", bodies[number], format="json", **headers)
            answers.append((response.status_code, len(response.json()["receipt"])))
        return answers

    results = run_together(40, cast_five)

    assert Counter(answer for answers in results for answer in answers) == {(201, 10): 200}
    assert_sealed_counts_exact(poll, 200)
    assert poll.total_votes == sum(len(body["option_ids"]) for body in bodies)
    assert set(Ballot.objects.filter(poll=poll).values_list("created_at", flat=True)) == {poll.created_at}


def test_fifty_identical_secret_votes_at_once_make_one_sealed_ballot(owner, other_user):
    poll = PollFactory(author=owner, is_secret=True)
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}

    results = run_together(50, lambda _: outcome(client_for(other_user).post("/api/votes", body, format="json")))

    assert Counter(results) == {(201, None): 1, (409, "already_voted"): 49}
    assert_sealed_counts_exact(poll, 1)


def test_a_poll_turning_secret_while_ballots_arrive_is_never_half_secret(owner):
    """Voters hold the poll as they loaded it; the author makes it secret at the same moment. Either the
    edit wins (every ballot sealed) or a ballot does (the edit is refused): never votes in a secret poll."""
    for attempt in range(5):
        poll = PollFactory(author=owner, title=f"Turning {attempt}")
        voters = [visitor(number, ip_address=f"10.3.{attempt}.{number}") for number in range(1, 21)]
        red = pick(poll, "Red")

        def act(index: int):
            if index == 0:
                try:
                    services.update_poll(poll=poll, actor=owner, is_secret=True)
                    return "secret"
                except errors.SecretBallotLocked:
                    return "locked"
            return services.cast_vote(poll=poll, voter=voters[index - 1], option_ids=red).receipt

        results = run_together(21, act)

        poll.refresh_from_db()
        receipts = [result for result in results[1:] if result]
        if poll.is_secret:
            assert results[0] == "secret" and len(receipts) == 20
            assert_sealed_counts_exact(poll, 20)
        else:
            assert results[0] == "locked" and not receipts
            assert not SealedBallot.objects.filter(poll=poll).exists()
            assert poll.total_votes == Vote.objects.filter(poll=poll).count() == 20


def test_resealing_while_votes_arrive_keeps_every_ballot(owner):
    poll = PollFactory(author=owner, is_secret=True)
    voters = [visitor(number, ip_address=f"10.4.0.{number}") for number in range(1, 41)]

    def act(index: int):
        if index % 10 == 0:
            return secret_ballots.reseal_pending()
        return services.cast_vote(poll=poll, voter=voters[index], option_ids=pick(poll, TEXTS[index % 3])).receipt

    results = run_together(40, act)
    secret_ballots.reseal_pending()

    receipts = {result for index, result in enumerate(results) if index % 10}
    assert receipts == set(SealedBallot.objects.filter(poll=poll).values_list("receipt", flat=True))
    assert_sealed_counts_exact(poll, 36)
    assert not SealedBallot.objects.filter(resealed=False).exists()


def test_after_resealing_no_system_column_links_a_sealed_ballot_to_its_voter(owner):
    """xmin (the writing transaction) and ctid (the place on disk) of the sealed rows and of the
    options say nothing of the participation rows once the clock has resealed."""
    poll = PollFactory(author=owner, is_secret=True)
    for number in range(1, 13):
        services.cast_vote(poll=poll, voter=Voter(user=UserFactory()), option_ids=pick(poll, TEXTS[number % 3]))

    def system_columns(table: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT xmin::text, ctid::text FROM {table} WHERE poll_id = %s", [poll.pk])
            return cursor.fetchall()

    ballot_xmins = {xmin for xmin, _ in system_columns(Ballot._meta.db_table)}
    before = {xmin for xmin, _ in system_columns(SealedBallot._meta.db_table)}
    assert before == ballot_xmins  # what resealing is for: written together, they share a transaction id

    assert secret_ballots.reseal_pending() == 1

    sealed_xmins = {xmin for xmin, _ in system_columns(SealedBallot._meta.db_table)}
    option_xmins = {xmin for xmin, _ in system_columns(Option._meta.db_table)}
    assert len(sealed_xmins) == 1 and not sealed_xmins & ballot_xmins
    assert option_xmins == sealed_xmins
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT receipt FROM {SealedBallot._meta.db_table} WHERE poll_id = %s ORDER BY ctid", [poll.pk]
        )
        on_disk = [receipt for (receipt,) in cursor.fetchall()]
    assert on_disk == sorted(on_disk)  # the order on disk is the public list's, not the order of voting
