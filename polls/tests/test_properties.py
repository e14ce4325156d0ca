"""Property tests: whatever the services are asked to do, the counters equal their rows.

A Hypothesis state machine builds a small world per example (a single-choice, a
multiple-choice, a ranked and a score poll, three account voters and three anonymous ones
behind one IP) and runs random sequences of the services that move counters: votes and
changed votes, retractions as the voter and the admin do them, likes, option removal,
voided ballots, closing and reopening, account and poll deletion. After every step it
checks the counters against the rows (a ranked poll's: ballots, first preferences and
rank-1 rows, every ranking numbered 1..k; a score poll's: ratings and score sums); a step
that raises a domain error must leave the database exactly as it found it, and must be
the error the rules predict.
"""

import uuid
from collections import Counter, defaultdict

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
from polls.models import MAX_OPTIONS, Ballot, Like, Option, Poll, VoidedBallot, Vote
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
POLL_NAMES = {
    "single": {},
    "multi": {"allow_multiple": True, "max_choices": 2},
    "ranked": {"method": "ranked", "max_choices": 2},
    "score": {"method": "score", "score_max": 3, "max_choices": 2},
}
# What a score ballot may give an option: the poll's 0..3, and what lies outside it.
SCORES = [0, 1, 2, 3, -1, 4, True, "2"]
# Who a moderator voids: the anonymous voters' shared address, the account voters', everyone.
NETWORKS = ["198.51.100.7", "203.0.113.1/32", "0.0.0.0/0"]
ACCOUNT_VOTERS = ["account-0", "account-1", "account-2"]
ANON_VOTERS = ["anon-0", "anon-1", "anon-2"]

OPERATIONS = [
    "cast_vote",
    "change_vote",
    "void_ballots",
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
        sorted(Option.objects.values_list("pk", "vote_count", "score_sum")),
        sorted(Vote.objects.values_list("pk", "rank", "score")),
        sorted(VoidedBallot.objects.values_list("pk", flat=True)),
        sorted(Ballot.objects.values_list("pk", flat=True)),
        sorted(Like.objects.values_list("pk", flat=True)),
        sorted(User.objects.values_list("pk", flat=True)),
        sorted(Notification.objects.values_list("pk", flat=True)),
    )


def check_counters(versions: dict) -> None:
    """The property itself, for the polls in `versions` (id -> last results_version seen) and every ballot.

    Single and approval: total_votes = sum of vote_count = Vote rows, each option's vote_count its rows.
    Ranked: total_votes = ballots = sum of vote_count = rank-1 rows, each option's vote_count its rank-1 rows,
    each ballot's ranks exactly 1..k. Score: total_votes = ballots, each option's vote_count its rating rows
    and its score_sum the sum of their scores."""
    polls = {
        pk: counters
        for pk, *counters in Poll.objects.filter(pk__in=versions).values_list(
            "pk", "title", "method", "total_votes", "likes_count", "results_version"
        )
    }
    assert set(polls) == set(versions), "a poll the example did not delete is gone"
    votes = list(Vote.objects.values_list("poll", "option", "ballot__poll", "option__poll", "rank", "score", "poll__method"))
    # Vote.poll repeats ballot.poll and option.poll; the per-poll counts rely on that.
    assert all(poll == ballot_poll == option_poll for poll, _, ballot_poll, option_poll, *_ in votes)
    for *_, rank, score, method in votes:
        assert (rank is not None) == (method == Poll.Method.RANKED), f"a {method} vote with rank {rank}"
        assert (score is not None) == (method == Poll.Method.SCORE), f"a {method} vote with score {score}"
    # What each option's vote_count counts: every vote, but a ranked ballot's first preference only.
    counted = [(poll, option) for poll, option, _, _, rank, _, _ in votes if rank in (None, 1)]
    votes_per_poll = Counter(poll for poll, _ in counted)
    votes_per_option = Counter(option for _, option in counted)
    scores_per_option = Counter()
    for _, option, *_, score, _ in votes:
        scores_per_option[option] += score or 0
    ballots_per_poll = Counter(Ballot.objects.values_list("poll", flat=True))
    likes_per_poll = Counter(Like.objects.values_list("poll", flat=True))
    option_totals = Counter()
    for option_id, poll_id, text, vote_count, score_sum in Option.objects.values_list(
        "pk", "poll", "text", "vote_count", "score_sum"
    ):
        assert vote_count == votes_per_option[option_id], f"{text} of {polls[poll_id][0]}: vote_count != its rows"
        assert score_sum == scores_per_option[option_id], f"{text} of {polls[poll_id][0]}: score_sum != its scores"
        option_totals[poll_id] += vote_count
    for pk, (title, method, total_votes, likes_count, version) in polls.items():
        rows = votes_per_poll[pk]
        if method in (Poll.Method.RANKED, Poll.Method.SCORE):
            ballots = ballots_per_poll[pk]
            assert total_votes == ballots, f"{title}: total_votes != ballots"
            if method == Poll.Method.RANKED:
                assert (option_totals[pk], rows) == (ballots, ballots), (
                    f"{title}: sum of first preferences, rank-1 rows and ballots disagree"
                )
        else:
            assert (total_votes, option_totals[pk], rows) == (rows, rows, rows), (
                f"{title}: total_votes, sum of vote_count and Vote rows disagree"
            )
        assert likes_count == likes_per_poll[pk], f"{title}: likes_count != Like rows"
        assert version >= versions[pk], f"{title}: results_version went down"
        versions[pk] = version
    ballots = Ballot.objects.annotate(size=Count("votes")).values_list("poll__method", "poll__max_choices", "size")
    for method, max_choices, size in ballots:
        assert size > 0, "a ballot without votes"
        assert method != Poll.Method.SINGLE or size == 1, "a single-choice ballot with more than one vote"
        assert size <= (max_choices or MAX_OPTIONS), "a ballot with more votes than the poll's max_choices"
    ranks_per_ballot = defaultdict(list)
    for ballot_id, rank in Vote.objects.filter(rank__isnull=False).order_by("rank").values_list("ballot", "rank"):
        ranks_per_ballot[ballot_id].append(rank)
    for ranks in ranks_per_ballot.values():
        assert ranks == list(range(1, len(ranks) + 1)), f"a ranked ballot numbered {ranks}"
    # Ballot.ranking, what a recount reads, holds the same order as the ballot's votes.
    positions_per_ballot = defaultdict(list)
    in_rank_order = Vote.objects.filter(rank__isnull=False).order_by("rank").values_list("ballot", "option__position")
    for ballot_id, position in in_rank_order:
        positions_per_ballot[ballot_id].append(str(position))
    for ballot_id, ranking in Ballot.objects.filter(pk__in=positions_per_ballot).values_list("pk", "ranking"):
        assert ranking == ".".join(positions_per_ballot[ballot_id]), f"a ballot's ranking {ranking!r} apart from its votes"
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
            picks = list(picks[: 1 if name == "single" else 2])
            self.try_cast_vote("initial cast_vote", name, voter_name, picks, [3, 1][: len(picks)] if name == "score" else None)
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
        picks, scores = self.draw_ballot(data, name)
        self.try_cast_vote("cast_vote", name, voter_name, picks, scores)

    def draw_ballot(self, data, name: str) -> tuple[list[str], list | None]:
        """Picks (a ranked poll's in the voter's order) and, for the score poll, a score for each pick."""
        texts = sorted(Option.objects.filter(poll=self.poll(name)).values_list("text", flat=True))
        any_picks = st.lists(st.sampled_from(OPTION_TEXTS + BAD_PICKS), max_size=4)
        if texts:
            # This poll's remaining options, as many as it takes, first (a ranking: some of them in any order;
            # or an option twice); then anything at all.
            own = st.lists(st.sampled_from(texts), min_size=1, max_size=len(texts))
            if name == "ranked":
                own = st.permutations(texts).flatmap(lambda order: st.integers(1, len(order)).map(lambda k: order[:k])) | own
            any_picks = own | any_picks
        picks = data.draw(any_picks, label="picks")
        if name != "score":
            return picks, None
        scores = st.sampled_from(SCORES[:4]) | st.sampled_from(SCORES)
        return picks, data.draw(st.lists(scores, min_size=len(picks), max_size=len(picks)), label="scores")

    def ballot(self, name: str, picks: list[str], scores: list | None) -> tuple[list, dict | None]:
        """The option ids (or, for the score poll, option id → score) a client would send for these picks."""
        other = "multi" if name == "single" else "single"
        sent = {
            **self.option_ids[name],
            "other poll's Red": self.option_ids[other]["Red"],
            "unknown id": uuid.UUID(int=0),
            "not-an-id": "not-an-id",
        }
        if scores is None:
            return [sent[pick] for pick in picks], None
        return [], {str(sent[pick]): score for pick, score in zip(picks, scores)}

    @staticmethod
    def choice_error(poll: Poll, option_ids: list, scores: dict | None):
        """The error polls.services._ballot_choices raises for this ballot (its checks in their order), or None."""
        if scores is not None:
            if "not-an-id" in scores:
                return errors.InvalidOption
            if any(
                isinstance(score, bool) or not isinstance(score, int) or not poll.score_min <= score <= poll.score_max
                for score in scores.values()
            ):
                return errors.ScoreOutOfRange
            wanted = [uuid.UUID(key) for key in scores]
        else:
            if "not-an-id" in option_ids:
                return errors.InvalidOption
            wanted = option_ids
            if len(set(wanted)) != len(wanted):
                if poll.method == Poll.Method.RANKED:
                    return errors.DuplicateOption
                wanted = list(dict.fromkeys(wanted))  # ticking a box twice is one pick
        if not wanted:
            return errors.InvalidOption
        if len(wanted) > poll.choice_limit:
            return errors.TooManyOptions
        if len(wanted) < poll.choice_minimum:
            return errors.TooFewOptions
        if not set(wanted) <= set(Option.objects.filter(poll=poll).values_list("pk", flat=True)):
            return errors.InvalidOption
        return None

    def try_cast_vote(self, operation: str, name: str, voter_name: str, picks: list[str], scores: list | None = None) -> None:
        poll, voter = self.poll(name), self.voters[voter_name]
        option_ids, sent_scores = self.ballot(name, picks, scores)
        if not poll.is_open:
            expected = errors.PollClosed
        elif VoidedBallot.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.BallotVoided
        elif error := self.choice_error(poll, option_ids, sent_scores):
            expected = error
        elif voter.is_anonymous and (
            Ballot.objects.filter(poll=poll, user__isnull=True, ip_address=voter.ip_address).count()
            >= ANON_BALLOTS_PER_IP
        ):
            expected = errors.AnonymousLimitReached
        elif Ballot.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.AlreadyVoted
        else:
            expected = None
        self.attempt(
            operation,
            expected,
            lambda: services.cast_vote(poll=poll, voter=voter, option_ids=option_ids, scores=sent_scores),
        )
        if expected is None:
            self.tally["ballot written", name] += 1

    @precondition(has_polls)
    @rule(data=st.data())
    def change_vote(self, data):
        """Change my vote: the old ballot goes only if the new one is written."""
        name, voter_name = self.draw_pair(data, prefer=self.pairs_with(Ballot))
        picks, scores = self.draw_ballot(data, name)
        poll, voter = self.poll(name), self.voters[voter_name]
        option_ids, sent_scores = self.ballot(name, picks, scores)
        if not poll.is_open:
            expected = errors.PollClosed
        elif not Ballot.objects.filter(poll=poll, **voter.lookup()).exists():
            expected = errors.NotVoted
        else:
            # Their own ballot's place under the address cap is theirs to reuse; a voided voter has no ballot.
            expected = self.choice_error(poll, option_ids, sent_scores)
        self.attempt(
            "change_vote",
            expected,
            lambda: services.change_vote(poll=poll, voter=voter, option_ids=option_ids, scores=sent_scores),
        )

    @precondition(has_polls)
    @rule(data=st.data())
    def void_ballots(self, data):
        """A moderator voids the ballots from an address or range: they leave every count, their voters stay out."""
        name = data.draw(st.sampled_from(sorted(self.polls)), label="poll")
        network = data.draw(st.sampled_from(NETWORKS), label="network")
        poll = self.poll(name)
        self.attempt(
            "void_ballots",
            None,
            lambda: services.void_ballots(poll=poll, moderator=self.staff, reason="Burst", network=network),
        )

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
    assert [name for name in POLL_NAMES if not tally["ballot written", name]] == [], "a poll nobody voted on"
