"""Property tests: whatever the services are asked to do, the counters equal their rows.

A Hypothesis state machine builds a small world per example (a single-choice and a
multiple-choice poll, three account voters and three anonymous ones behind one IP) and
runs random sequences of the services that move counters: votes, retractions as the
voter and the admin do them, likes, option removal, closing and reopening, account and
poll deletion. After every step it checks the counters against the rows; a step that
raises a domain error must leave the database exactly as it found it, and must be the
error the rules predict.
"""

import uuid
from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Count
from hypothesis import HealthCheck, settings as hypothesis_settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Notification, User
from accounts.services import delete_account
from accounts.tests.factories import UserFactory
from polls import errors, services
from polls.models import MAX_OPTIONS, Ballot, Like, Option, Poll, Vote
from polls.tests.factories import PollFactory
from polls.voters import Voter

pytestmark = pytest.mark.django_db

# Low enough that the third anonymous voter behind the shared IP meets the limit.
ANON_BALLOTS_PER_IP = 2
ANON_IP = "198.51.100.7"
OPTION_TEXTS = ["Red", "Green", "Blue"]
# What a voter may send besides this poll's options: another poll's option, an id that
# never existed, and something that is not an id at all.
BAD_PICKS = ["other poll's Red", "unknown id", "not-an-id"]
# What the voters who took part before an example's first step picked (a single-choice ballot keeps the first).
FIRST_PICKS = [("Red",), ("Green",), ("Blue", "Red"), ("Green", "Blue")]
POLL_NAMES = {"single": {}, "multi": {"allow_multiple": True, "max_choices": 2}}
ACCOUNT_VOTERS = ["account-0", "account-1", "account-2"]
ANON_VOTERS = ["anon-0", "anon-1", "anon-2"]

OPERATIONS = [
    "cast_vote",
    "retract_ballot",
    "retract_votes_as_admin",
    "retract_ballots_as_admin",
    "withdraw_vote",
    "like_poll",
    "unlike_poll",
    "withdraw_like",
    "remove_likes_as_admin",
    "remove_options",
    "set_poll_active",
    "delete_account",
    "delete_poll",
]

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    # Derandomized runs repeat the same examples: nothing worth keeping in an example database.
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def db_state() -> tuple:
    """Every row a service might touch, for 'a refused step changes nothing'."""
    return (
        sorted(Poll.objects.values_list("pk", "is_active", "total_votes", "likes_count", "results_version")),
        sorted(Option.objects.values_list("pk", "vote_count")),
        sorted(Vote.objects.values_list("pk", flat=True)),
        sorted(Ballot.objects.values_list("pk", flat=True)),
        sorted(Like.objects.values_list("pk", flat=True)),
        sorted(User.objects.values_list("pk", flat=True)),
        sorted(Notification.objects.values_list("pk", flat=True)),
    )


def check_counters(versions: dict) -> None:
    """The property itself, for the polls in `versions` (id -> last results_version seen) and every ballot."""
    polls = {
        pk: counters
        for pk, *counters in Poll.objects.filter(pk__in=versions).values_list(
            "pk", "title", "total_votes", "likes_count", "results_version"
        )
    }
    assert set(polls) == set(versions), "a poll the example did not delete is gone"
    votes = list(Vote.objects.values_list("poll", "option", "ballot__poll", "option__poll"))
    # Vote.poll repeats ballot.poll and option.poll; the per-poll counts rely on that.
    assert all(poll == ballot_poll == option_poll for poll, _, ballot_poll, option_poll in votes)
    votes_per_poll = Counter(poll for poll, *_ in votes)
    votes_per_option = Counter(option for _, option, *_ in votes)
    likes_per_poll = Counter(Like.objects.values_list("poll", flat=True))
    option_totals = Counter()
    for option_id, poll_id, text, vote_count in Option.objects.values_list("pk", "poll", "text", "vote_count"):
        assert vote_count == votes_per_option[option_id], f"{text} of {polls[poll_id][0]}: vote_count != Vote rows"
        option_totals[poll_id] += vote_count
    for pk, (title, total_votes, likes_count, version) in polls.items():
        rows = votes_per_poll[pk]
        assert (total_votes, option_totals[pk], rows) == (rows, rows, rows), (
            f"{title}: total_votes, sum of vote_count and Vote rows disagree"
        )
        assert likes_count == likes_per_poll[pk], f"{title}: likes_count != Like rows"
        assert version >= versions[pk], f"{title}: results_version went down"
        versions[pk] = version
    ballots = Ballot.objects.annotate(size=Count("votes")).values_list(
        "poll__method", "poll__max_choices", "size"
    )
    for method, max_choices, size in ballots:
        assert size > 0, "a ballot without votes"
        assert method != Poll.Method.SINGLE or size == 1, "a single-choice ballot with more than one vote"
        assert size <= (max_choices or MAX_OPTIONS), "a ballot with more votes than the poll's max_choices"
    # Foreign keys are checked only at commit, which a test transaction never reaches: check now.
    connection.check_constraints()


class CounterMachine(RuleBasedStateMachine):
    """One example: a fresh world inside a savepoint that teardown rolls back."""

    # Filled by every example of a run: (operation, "ok" or the error's name) -> how often.
    tally: Counter = Counter()
    examples = 0

    def __init__(self):
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        type(self).examples += 1
        self.author = UserFactory(username="author")
        self.staff = UserFactory(username="staff", is_staff=True)
        self.polls: dict[str, uuid.UUID] = {}
        self.option_ids: dict[str, dict[str, uuid.UUID]] = {}
        for name, extra in POLL_NAMES.items():
            poll = PollFactory(author=self.author, title=name, options=OPTION_TEXTS, **extra)
            self.polls[name] = poll.pk
            # Kept after the option or poll is deleted: a stale id is a pick a client may still send.
            self.option_ids[name] = dict(poll.options.values_list("text", "pk"))
        self.voters: dict[str, Voter] = {
            name: Voter(user=UserFactory(username=name), ip_address="203.0.113.1", user_agent="hypothesis")
            for name in ACCOUNT_VOTERS
        }
        self.voters |= {name: Voter(anon_id=f"{name}-0123456789abcdef", ip_address=ANON_IP) for name in ANON_VOTERS}
        self.versions: dict[uuid.UUID, int] = dict.fromkeys(self.polls.values(), 0)

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- Naming rows so that a falsifying example reads like a story ----------------------

    def poll(self, name: str) -> Poll:
        # Fetched fresh for every call, as a request would.
        return Poll.objects.get(pk=self.polls[name])

    def poll_name(self, poll_id) -> str:
        return next(name for name, pk in self.polls.items() if pk == poll_id)

    def voter_name(self, user_id, anon_id) -> str:
        return next(
            name
            for name, voter in self.voters.items()
            if (voter.user is not None and voter.user.pk == user_id) or (user_id is None and voter.anon_id == anon_id)
        )

    def option_label(self, option_id) -> str:
        return next(
            f"{poll}/{text}" for poll, ids in self.option_ids.items() for text, pk in ids.items() if pk == option_id
        )

    def vote_labels(self) -> dict[str, uuid.UUID]:
        rows = Vote.objects.values_list("pk", "ballot__user", "ballot__anon_id", "option")
        return {
            f"{self.option_label(option_id)} by {self.voter_name(user_id, anon_id)}": pk
            for pk, user_id, anon_id, option_id in rows
        }

    def ballot_labels(self) -> dict[str, uuid.UUID]:
        return self.voter_record_labels(Ballot)

    def like_labels(self) -> dict[str, uuid.UUID]:
        return self.voter_record_labels(Like)

    def voter_record_labels(self, model) -> dict[str, uuid.UUID]:
        rows = model.objects.values_list("pk", "poll", "user", "anon_id")
        return {
            f"{self.poll_name(poll_id)} by {self.voter_name(user_id, anon_id)}": pk
            for pk, poll_id, user_id, anon_id in rows
        }

    def live_option_labels(self) -> dict[str, uuid.UUID]:
        return {self.option_label(pk): pk for pk in Option.objects.values_list("pk", flat=True)}

    @staticmethod
    def subset(data, labels: dict, what: str) -> list:
        subsets = st.lists(st.sampled_from(sorted(labels)), unique=True) if labels else st.just([])
        chosen = data.draw(subsets, label=what)
        return [labels[label] for label in chosen]

    def pairs_with(self, model) -> set[tuple[str, str]]:
        """(poll, voter) names that have a ballot (or a like)."""
        rows = model.objects.values_list("poll", "user", "anon_id")
        return {(self.poll_name(poll_id), self.voter_name(user_id, anon_id)) for poll_id, user_id, anon_id in rows}

    def draw_pair(self, data, *, prefer: set) -> tuple[str, str]:
        """A poll and a voter, drawn first from the pairs where the step can succeed."""
        every = [(poll, voter) for poll in sorted(self.polls) for voter in sorted(self.voters)]
        # Listed twice (and first, where shrinking heads): drawn more often, the others still come up.
        preferred = [pair for pair in every if pair in prefer]
        return data.draw(st.sampled_from(preferred * 2 + every), label="poll, voter")

    def other_voter(self, name: str) -> str:
        return next(other for other in self.voters if other != name)

    def managers(self) -> list[str]:
        """Who may try to close or delete a poll: its author, staff, a visitor, the account voters."""
        return ["author", "staff", "nobody", *sorted(set(ACCOUNT_VOTERS) & set(self.voters))]

    def manager(self, who: str):
        if who in ("author", "staff"):
            return getattr(self, who)
        return AnonymousUser() if who == "nobody" else self.voters[who].user

    @staticmethod
    def manager_error(who: str):
        if who in ("author", "staff"):
            return None
        return errors.LoginRequired if who == "nobody" else errors.NotOwner

    # --- Running one step -------------------------------------------------------------------

    def attempt(self, operation: str, expected, call) -> None:
        """Run a service; a domain error must be the predicted one and change nothing."""
        # Only a step predicted to fail needs the before-picture: any other error fails the test anyway.
        before = db_state() if expected is not None else None
        try:
            call()
        except errors.PollError as error:
            assert type(error) is expected, f"{operation} raised {type(error).__name__}, expected {expected}"
            assert db_state() == before, f"{operation} raised {type(error).__name__} but changed the database"
            self.tally[operation, type(error).__name__] += 1
            return
        assert expected is None, f"{operation} succeeded, expected {expected.__name__}"
        self.tally[operation, "ok"] += 1

    def has_polls(self) -> bool:
        return bool(self.polls)

    # --- Where an example starts ---------------------------------------------------------------

    @initialize(data=st.data())
    def some_voters_took_part_already(self, data):
        """Ballots and likes from before the first step, so that taking back has something to take; maybe closed."""
        pairs = [(poll, voter) for poll in sorted(self.polls) for voter in sorted(self.voters)]
        ballots = data.draw(
            st.lists(st.tuples(st.sampled_from(pairs), st.sampled_from(FIRST_PICKS)), unique_by=lambda row: row[0]),
            label="ballots",
        )
        for (name, voter_name), picks in ballots:
            self.try_cast_vote("initial cast_vote", name, voter_name, list(picks[: 1 if name == "single" else 2]))
        for name, voter_name in data.draw(st.lists(st.sampled_from(pairs), unique=True), label="likes"):
            self.try_like("initial like_poll", name, voter_name)
        # Half the examples start with one poll closed; set_poll_active may reopen it.
        for name in data.draw(st.sampled_from([(), (), ("single",), ("multi",)]), label="closed"):
            services.set_poll_active(poll=self.poll(name), actor=self.author, active=False)

    # --- Voting -----------------------------------------------------------------------------

    @precondition(has_polls)
    @rule(data=st.data())
    def cast_vote(self, data):
        every = {(poll, voter) for poll in self.polls for voter in self.voters}
        name, voter_name = self.draw_pair(data, prefer=every - self.pairs_with(Ballot))
        poll = self.poll(name)
        texts = sorted(Option.objects.filter(poll=poll).values_list("text", flat=True))
        any_picks = st.lists(st.sampled_from(OPTION_TEXTS + BAD_PICKS), max_size=4)
        if texts:
            # This poll's remaining options, as many as it takes, first; then anything at all.
            any_picks = st.lists(st.sampled_from(texts), min_size=1, max_size=len(texts)) | any_picks
        picks = data.draw(any_picks, label="picks")
        self.try_cast_vote("cast_vote", name, voter_name, picks)

    def try_cast_vote(self, operation: str, name: str, voter_name: str, picks: list[str]) -> None:
        poll, voter = self.poll(name), self.voters[voter_name]
        other = "multi" if name == "single" else "single"
        sent = {
            **self.option_ids[name],
            "other poll's Red": self.option_ids[other]["Red"],
            "unknown id": uuid.UUID(int=0),
            "not-an-id": "not-an-id",
        }
        option_ids = [sent[pick] for pick in picks]
        live = set(Option.objects.filter(poll=poll).values_list("pk", flat=True))
        wanted = {sent[pick] for pick in picks}
        if not poll.is_open:
            expected = errors.PollClosed
        elif not wanted or not wanted <= live:
            expected = errors.InvalidOption
        elif len(wanted) > poll.choice_limit:
            expected = errors.TooManyOptions
        elif voter.is_anonymous and (
            Ballot.objects.filter(poll=poll, user__isnull=True, ip_address=voter.ip_address).count()
            >= ANON_BALLOTS_PER_IP
        ):
            expected = errors.AnonymousLimitReached
        elif Ballot.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.AlreadyVoted
        else:
            expected = None
        self.attempt(operation, expected, lambda: services.cast_vote(poll=poll, voter=voter, option_ids=option_ids))

    @precondition(has_polls)
    @rule(data=st.data())
    def retract_ballot(self, data):
        name, voter_name = self.draw_pair(data, prefer=self.pairs_with(Ballot))
        poll, voter = self.poll(name), self.voters[voter_name]
        if not poll.is_open:
            expected = errors.PollClosed
        elif not Ballot.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.NotVoted
        else:
            expected = None
        self.attempt("retract_ballot", expected, lambda: services.retract_ballot(poll=poll, voter=voter))

    @rule(data=st.data())
    def retract_votes_as_admin(self, data):
        """The Vote admin's delete action: any subset, across polls and ballots, even none."""
        chosen = self.subset(data, self.vote_labels(), "votes")
        votes = Vote.objects.filter(pk__in=chosen)
        self.attempt("retract_votes_as_admin", None, lambda: services.retract_votes(votes=votes))

    @rule(data=st.data())
    def retract_ballots_as_admin(self, data):
        """The Ballot admin's delete action: the votes of the chosen ballots."""
        chosen = self.subset(data, self.ballot_labels(), "ballots")
        votes = Vote.objects.filter(ballot__in=Ballot.objects.filter(pk__in=chosen))
        self.attempt("retract_ballots_as_admin", None, lambda: services.retract_votes(votes=votes))

    @precondition(lambda self: Vote.objects.exists())
    @rule(data=st.data())
    def withdraw_vote(self, data):
        labels = self.vote_labels()
        vote = Vote.objects.select_related("ballot", "poll").get(
            pk=labels[data.draw(st.sampled_from(sorted(labels)), label="vote")]
        )
        owner = self.voter_name(vote.ballot.user_id, vote.ballot.anon_id)
        who = data.draw(st.sampled_from(["its voter", "another voter", "staff"]), label="as")
        if who == "staff":
            voter, actor, expected = Voter(user=self.staff), self.staff, None
        else:
            voter = self.voters[owner if who == "its voter" else self.other_voter(owner)]
            actor = voter.user
            expected = errors.NotOwner if who == "another voter" else None if vote.poll.is_open else errors.PollClosed
        self.attempt("withdraw_vote", expected, lambda: services.withdraw_vote(vote=vote, voter=voter, actor=actor))

    # --- Likes ------------------------------------------------------------------------------

    @precondition(has_polls)
    @rule(data=st.data())
    def like_poll(self, data):
        every = {(poll, voter) for poll in self.polls for voter in self.voters}
        name, voter_name = self.draw_pair(data, prefer=every - self.pairs_with(Like))
        self.try_like("like_poll", name, voter_name)

    def try_like(self, operation: str, name: str, voter_name: str) -> None:
        poll, voter = self.poll(name), self.voters[voter_name]
        if not poll.is_open:
            expected = errors.PollClosed
        elif voter.is_anonymous and (
            Like.objects.filter(poll=poll, user__isnull=True, ip_address=voter.ip_address).count()
            >= ANON_BALLOTS_PER_IP
        ):
            expected = errors.AnonymousLimitReached  # anonymous likes share the ballots' cap per address
        elif Like.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.AlreadyLiked
        else:
            expected = None
        self.attempt(operation, expected, lambda: services.like_poll(poll=poll, voter=voter))

    @precondition(has_polls)
    @rule(data=st.data())
    def unlike_poll(self, data):
        name, voter_name = self.draw_pair(data, prefer=self.pairs_with(Like))
        poll, voter = self.poll(name), self.voters[voter_name]
        expected = None if Like.objects.filter(poll=poll, **voter.lookup()).exists() else errors.NotLiked
        self.attempt("unlike_poll", expected, lambda: services.unlike_poll(poll=poll, voter=voter))

    @precondition(lambda self: Like.objects.exists())
    @rule(data=st.data())
    def withdraw_like(self, data):
        labels = self.like_labels()
        like = Like.objects.get(pk=labels[data.draw(st.sampled_from(sorted(labels)), label="like")])
        owner = self.voter_name(like.user_id, like.anon_id)
        who = data.draw(st.sampled_from(["its voter", "another voter", "staff"]), label="as")
        if who == "staff":
            voter, actor, expected = Voter(user=self.staff), self.staff, None
        else:
            voter = self.voters[owner if who == "its voter" else self.other_voter(owner)]
            actor, expected = voter.user, None if who == "its voter" else errors.NotOwner
        self.attempt("withdraw_like", expected, lambda: services.withdraw_like(like=like, voter=voter, actor=actor))

    @rule(data=st.data())
    def remove_likes_as_admin(self, data):
        chosen = self.subset(data, self.like_labels(), "likes")
        likes = Like.objects.filter(pk__in=chosen)
        self.attempt("remove_likes_as_admin", None, lambda: services.remove_likes(likes=likes))

    # --- Polls, options, accounts -------------------------------------------------------------

    @rule(data=st.data())
    def remove_options(self, data):
        """The Option admin's delete action: any options, of one poll or both."""
        chosen = self.subset(data, self.live_option_labels(), "options")
        options = Option.objects.filter(pk__in=chosen)
        self.attempt("remove_options", None, lambda: services.remove_options(options=options))

    @precondition(has_polls)
    @rule(data=st.data(), active=st.booleans())
    def set_poll_active(self, data, active):
        name = data.draw(st.sampled_from(sorted(self.polls)), label="poll")
        who = data.draw(st.sampled_from(self.managers()), label="by")
        poll, actor = self.poll(name), self.manager(who)
        self.attempt(
            "set_poll_active",
            self.manager_error(who),
            lambda: services.set_poll_active(poll=poll, actor=actor, active=active),
        )

    @precondition(lambda self: set(ACCOUNT_VOTERS) & set(self.voters))
    @rule(data=st.data())
    def delete_account(self, data):
        name = data.draw(st.sampled_from(sorted(set(ACCOUNT_VOTERS) & set(self.voters))), label="account")
        user = User.objects.get(pk=self.voters[name].user.pk)
        delete_account(user=user)
        del self.voters[name]
        self.tally["delete_account", "ok"] += 1

    @precondition(has_polls)
    @rule(data=st.data())
    def delete_poll(self, data):
        name = data.draw(st.sampled_from(sorted(self.polls)), label="poll")
        who = data.draw(st.sampled_from(self.managers()), label="by")
        poll, actor = self.poll(name), self.manager(who)
        expected = self.manager_error(who)
        self.attempt("delete_poll", expected, lambda: services.delete_poll(poll=poll, actor=actor))
        if expected is None:
            del self.versions[self.polls.pop(name)]

    # --- The property ---------------------------------------------------------------------------

    @invariant()
    def counters_equal_rows_and_versions_only_grow(self):
        check_counters(self.versions)


def test_any_sequence_of_services_keeps_counters_equal_to_rows(settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = ANON_BALLOTS_PER_IP
    CounterMachine.tally = Counter()
    CounterMachine.examples = 0

    run_state_machine_as_test(CounterMachine, settings=MACHINE_SETTINGS)

    # A machine whose every step fails would pass vacuously: each service must have worked.
    tally = CounterMachine.tally
    print(f"\n{CounterMachine.examples} examples; outcomes:")
    for (operation, outcome), count in sorted(tally.items()):
        print(f"  {operation:24} {outcome:24} {count}")
    assert [operation for operation in OPERATIONS if not tally[operation, "ok"]] == []
