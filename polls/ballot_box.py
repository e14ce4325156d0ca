"""The ballot box: where a ballot that polls.services.cast_vote allowed is written, with its votes.

Ballots are written in batches (group commit, polls.group_commit): every vote on a poll moves
the same counter rows, and a transaction holds their locks until its commit is on disk, so one
transaction per vote would queue a busy poll's votes behind each other's disk flushes. Each
thread waits for the batch holding its ballot to commit and gets its own outcome.

Three rules that simultaneous requests could race are refereed here, inside the batch's
transaction: one ballot per voter per poll and one ballot per invite (the database's unique
constraints), and at most ANONYMOUS_BALLOTS_PER_IP anonymous ballots from one address on one
poll (polls.anonymous_cap; ballots cast with an invite are not capped).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Sequence

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from polls import announce, errors, secret_ballots, selectors
from polls.anonymous_cap import capped_address, lock_addresses, taken_places
from polls.counters import move_vote_counts, ranking_of
from polls.group_commit import GroupCommit
from polls.models import Ballot, Invite, Option, Poll, SealedBallot, Vote
from polls.voters import Voter

logger = structlog.get_logger(__name__)


@dataclass
class PendingBallot:
    """A ballot waiting to be written: its Ballot and Vote rows (or, in a secret poll, its
    SealedBallot) are made up front, ids included."""

    poll: Poll
    voter: Voter
    options: list[Option]  # a ranking's first preference first
    scores: list[int] | None = None  # a score ballot's score for each option
    invite: Invite | None = None
    ballot: Ballot = dataclass_field(init=False)
    votes: list[Vote] = dataclass_field(init=False)
    sealed: SealedBallot | None = dataclass_field(init=False)

    def __post_init__(self):
        self.ballot = Ballot(
            poll=self.poll,
            user_agent=self.voter.user_agent[:300],
            invite=self.invite,
            ranking=ranking_of(self.options) if self.poll.method == Poll.Method.RANKED else "",
            **self.voter.identity(),
        )
        self.seal(self.poll.is_secret)

    def seal(self, secret: bool) -> None:
        """Votes for an ordinary poll; for a secret one, choices apart from a participation row that keeps little."""
        self.sealed = secret_ballots.sealed_ballot(poll=self.poll, options=self.options) if secret else None
        self.votes = [] if secret else self._votes()
        if secret:
            fields = secret_ballots.participation_fields(
                poll=self.poll, ip_address=self.voter.ip_address, anonymous=self.voter.is_anonymous
            )
            for name, value in fields.items():
                setattr(self.ballot, name, value)

    def _votes(self) -> list[Vote]:
        ranked = self.poll.method == Poll.Method.RANKED
        scores = self.scores or [None] * len(self.options)
        return [
            Vote(ballot=self.ballot, poll=self.poll, option=option, rank=place if ranked else None, score=score)
            for place, (option, score) in enumerate(zip(self.options, scores, strict=True), start=1)
        ]

    def count_into(self, per_poll: Counter, per_option: Counter, per_option_score: Counter) -> None:
        """What this ballot adds to the counters (polls.counters says what each counts per method)."""
        per_poll[self.poll.pk] += 1 if self.poll.counts_ballots else len(self.options)
        counted = self.options[:1] if self.poll.method == Poll.Method.RANKED else self.options
        per_option.update(option.pk for option in counted)
        for option, score in zip(self.options, self.scores or ()):
            per_option_score[option.pk] += score

    @property
    def capped_address(self) -> str | None:
        """The address whose anonymous ballots on this poll are capped, if this ballot counts against one."""
        if self.invite is not None:
            return None  # the invite is the proof: a room of invited voters behind one NAT all get in
        return capped_address(self.voter)


@dataclass(frozen=True)
class CastBallot:
    """A committed ballot, its votes, and the poll's results as committed with it."""

    ballot: Ballot
    votes: tuple[Vote, ...]
    results: dict
    receipt: str | None = None  # a secret ballot's receipt code, shown to its voter once


def cast(
    *, poll: Poll, voter: Voter, options: list[Option], scores: list[int] | None = None, invite: Invite | None = None
) -> CastBallot:
    """Write one voter's ballot (with the invite that admits it, if any); raises the domain error that refused it."""
    pending = PendingBallot(poll=poll, voter=voter, options=options, scores=scores, invite=invite)
    if not transaction.get_connection().in_atomic_block:
        return _batches.submit(pending)
    # Inside the caller's transaction: no other thread may commit it, so no batch.
    [outcome] = write_ballots([pending])
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def write_ballots(pending: Sequence[PendingBallot]) -> list[CastBallot | Exception]:
    """Write ballots in one transaction; each gets its CastBallot, or the error to raise in its own thread."""
    try:
        with transaction.atomic():
            return _insert_ballots(pending)
    except IntegrityError:
        if len(pending) == 1:
            raise
    # One bad ballot (an option deleted a moment ago, say) must not sink the others: one at a time.
    outcomes: list[CastBallot | Exception] = []
    for one in pending:
        try:
            with transaction.atomic():
                [outcome] = _insert_ballots([one])
        except IntegrityError as error:  # PostgreSQL checks foreign keys at the commit
            outcome = error
        outcomes.append(outcome)
    return outcomes


def _insert_ballots(pending: Sequence[PendingBallot]) -> list[CastBallot | Exception]:
    capped = _over_the_anonymous_cap(pending)
    admitted = [one for one in pending if one.ballot.pk not in capped]
    Ballot.objects.bulk_create([one.ballot for one in admitted], ignore_conflicts=True)
    # Ballot ids are made here, so a stored id is one of these; a missing one met a voter's earlier ballot.
    # With each, whether its poll is secret and its method, read under the poll row's lock (the one the counters' UPDATE
    # takes anyway, taken here in poll id order): an edit making the poll secret waits for these
    # ballots and sees them, or commits first and is read here.
    rows = list(
        Ballot.objects.filter(pk__in=[one.ballot.pk for one in admitted])
        .select_for_update(no_key=True)  # locks the joined poll rows too (and our own new ballots)
        .order_by("poll_id")
        .values_list("pk", "poll__is_secret", "poll__method", "poll__is_active", "poll__expires_at")
    )
    stored = {pk: is_secret for pk, is_secret, *_ in rows}
    method_of = {pk: method for pk, _, method, *_ in rows}
    # The poll as it is now, under its lock: one closed (by hand or by the clock) while these were on their
    # way takes none of them, however recently they found it open; closing it waits for this batch.
    open_now = {state: Poll(is_active=state[0], expires_at=state[1]).is_open for state in {tuple(row[3:]) for row in rows}}
    closed = {pk for pk, _, _, *state in rows if not open_now[tuple(state)]}
    # A poll whose method changed (before its first ballot) while these were on their way: they were checked
    # against the old method's rules, so they go back to their voters unwritten.
    reshaped = {one.ballot.pk for one in admitted if one.ballot.pk in stored and method_of[one.ballot.pk] != one.poll.method}
    if closed or reshaped:
        Ballot.objects.filter(pk__in=closed | reshaped).delete()
    accepted = [one for one in admitted if one.ballot.pk in stored and one.ballot.pk not in closed | reshaped]
    _follow_secrecy_changes(accepted, stored)
    Vote.objects.bulk_create([vote for one in accepted for vote in one.votes])
    sealed = [one.sealed for one in accepted if one.sealed is not None]
    if sealed:
        SealedBallot.objects.bulk_create(secret_ballots.shuffled(sealed))
    per_poll, per_option, per_option_score = Counter(), Counter(), Counter()
    for one in accepted:
        one.count_into(per_poll, per_option, per_option_score)
    move_vote_counts(per_poll=per_poll, per_option=per_option, per_option_score=per_option_score)
    _announce_ballots(accepted)
    # Each voter's answer, read once per poll inside this transaction.
    results = {}
    outcomes: list[CastBallot | Exception] = []
    for one in pending:
        if one.ballot.pk in closed:
            outcomes.append(errors.PollClosed())
        elif one.ballot.pk in reshaped:
            outcomes.append(errors.WrongBallotShape(gettext("The poll's voting method changed as you voted: look again and vote.")))
        elif one.ballot.pk in stored:
            if one.poll.pk not in results:
                results[one.poll.pk] = selectors.poll_results(one.poll)
            receipt = one.sealed.receipt if one.sealed is not None else None
            outcomes.append(
                CastBallot(ballot=one.ballot, votes=tuple(one.votes), results=results[one.poll.pk], receipt=receipt)
            )
        elif one.ballot.pk in capped:
            logger.info("vote_refused", poll_id=str(one.poll.pk), reason="anonymous_limit")
            outcomes.append(errors.AnonymousLimitReached())
        elif Ballot.objects.filter(poll=one.poll, **one.voter.lookup()).exists():
            logger.info("vote_refused", poll_id=str(one.poll.pk), reason="already_voted")
            outcomes.append(errors.AlreadyVoted())
        elif one.invite is not None and Ballot.objects.filter(invite=one.invite).exists():
            logger.info("vote_refused", poll_id=str(one.poll.pk), reason="invite_used")
            outcomes.append(errors.InviteUsed())
        else:
            raise IntegrityError(f"ballot {one.ballot.pk} was refused by a constraint")
    return outcomes


def _follow_secrecy_changes(accepted: Sequence[PendingBallot], secret_by_ballot: dict) -> None:
    """A poll made secret (or not) while its first ballots were on their way: write them as it now is."""
    # Asked of each ballot, not of its Poll: ballots of one batch may share that object.
    changed = [one for one in accepted if secret_by_ballot[one.ballot.pk] != (one.sealed is not None)]
    for one in changed:
        one.poll.is_secret = secret_by_ballot[one.ballot.pk]
        one.seal(one.poll.is_secret)
        if one.poll.is_secret:  # its row went in as an ordinary poll's: keep no more of it than a secret one does
            kept = {name: getattr(one.ballot, name) for name in ("created_at", "user_agent", "ip_address")}
            Ballot.objects.filter(pk=one.ballot.pk).update(**kept)


def _over_the_anonymous_cap(pending: Sequence[PendingBallot]) -> set:
    """Ids of the anonymous ballots that would take their address past ANONYMOUS_BALLOTS_PER_IP on their poll.

    Ballots already stored count, then this batch's in order; a voter's repeat in the batch takes no
    second place. A voter who already voted in an earlier batch does take a place here, though the
    constraint refuses their ballot later: the cap errs towards refusing, never past it.
    """
    addresses = defaultdict(set)
    for one in pending:
        if one.capped_address:
            addresses[one.poll.pk].add(one.capped_address)
    if not addresses:
        return set()
    lock_addresses(Ballot, addresses)
    taken = taken_places(Ballot, addresses)
    capped, seen = set(), set()
    for one in pending:
        if one.capped_address:
            place = (one.poll.pk, one.capped_address)
            if taken[place] >= settings.ANONYMOUS_BALLOTS_PER_IP:
                capped.add(one.ballot.pk)
            elif (one.poll.pk, one.voter.key) not in seen:
                seen.add((one.poll.pk, one.voter.key))
                taken[place] += 1
    return capped


def _announce_ballots(accepted: Sequence[PendingBallot]) -> None:
    voters_by_poll: dict = {}
    for one in accepted:
        voters_by_poll.setdefault(one.poll, []).append(one.voter)
    confirmations = [
        (
            one.voter.user.pk,
            {
                "type": "vote.cast",
                "poll_id": str(one.poll.pk),
                "ballot_id": str(one.ballot.pk),
                # A secret ballot's choices never travel with the voter's id (through Redis, say).
                "option_ids": [] if one.sealed is not None else [str(option.pk) for option in one.options],
            },
        )
        for one in accepted
        if one.voter.user is not None
    ]
    announce.ballots_cast(voters_by_poll, confirmations)


# A thread waiting for another's batch gives its connection back to the pool meanwhile.
_batches = GroupCommit(write_ballots, before_waiting=lambda: transaction.get_connection().close())
