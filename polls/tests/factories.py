from collections import Counter, defaultdict

import factory
from django.db.models import Count, Sum

from polls import services
from polls.models import Ballot, Like, Option, Poll, Vote
from polls.voters import Voter


class PollFactory(factory.Factory):
    """Polls made the way users make them: through services.create_poll, options included."""

    class Meta:
        model = Poll

    author = factory.SubFactory("accounts.tests.factories.UserFactory")
    title = factory.Sequence(lambda n: f"Favourite colour #{n}?")
    options = factory.LazyFunction(lambda: ["Red", "Green", "Blue"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_poll(**kwargs)


def visitor(number: int = 1, *, ip_address: str = "203.0.113.1") -> Voter:
    """An anonymous voter, as the browser cookie would identify one."""
    return Voter(anon_id=f"visitor-{number}", ip_address=ip_address, user_agent="pytest")


def pick(poll: Poll, *texts: str) -> list:
    """The ids of a poll's options, by their text."""
    ids = dict(Option.objects.filter(poll=poll).values_list("text", "id"))
    return [ids[text] for text in texts]


def vote_counts(poll: Poll) -> tuple[int, int, int]:
    """(poll.total_votes, sum of its options' vote_count, its Vote rows): all three must agree.

    A secret poll has no Vote rows: its picks are the options in its sealed ballots. A ranked poll counts
    ballots: its first preferences and rank-1 rows. A score poll counts ballots too, and rates options:
    (total_votes, ballots holding a rating, ballots), and each option's vote_count and score_sum must
    equal its rating rows and their scores. An open-text poll: (total_votes, visible answers, visible answers)."""
    poll.refresh_from_db()
    option_total = sum(poll.options.values_list("vote_count", flat=True))
    if poll.method == Poll.Method.RANKED:
        for ballot in poll.ballots.prefetch_related("votes__option"):
            in_order = sorted(ballot.votes.all(), key=lambda vote: vote.rank)
            assert [vote.rank for vote in in_order] == list(range(1, len(in_order) + 1)), "ranks with a gap"
            assert ballot.ranking == ".".join(str(vote.option.position) for vote in in_order), "ranking apart from votes"
        return poll.total_votes, option_total, Vote.objects.filter(poll=poll, rank=1).count()
    if poll.method == Poll.Method.SCORE:
        for option in poll.options.all():
            ratings = Vote.objects.filter(option=option).values_list("score", flat=True)
            assert (option.vote_count, option.score_sum) == (len(ratings), sum(ratings)), option.text
        rated = Vote.objects.filter(poll=poll).values("ballot_id").distinct().count()
        return poll.total_votes, rated, poll.ballots.count()
    if poll.takes_answers:
        # An open-text poll counts its visible answers; it has no options.
        visible = poll.answers.filter(hidden=False).count()
        return poll.total_votes, visible, visible
    if poll.is_secret:
        picks = sum(len(option_ids) for option_ids in poll.sealed_ballots.values_list("option_ids", flat=True))
        return poll.total_votes, option_total, picks
    return poll.total_votes, option_total, Vote.objects.filter(poll=poll).count()


def like_counts(poll: Poll) -> tuple[int, int]:
    """(poll.likes_count, its Like rows)."""
    poll.refresh_from_db()
    return poll.likes_count, Like.objects.filter(poll=poll).count()


def ranked_counts(poll: Poll) -> tuple[int, int, int, int]:
    """A ranked poll's (total_votes, ballots, sum of first preferences, rank-1 rows): all four must agree."""
    poll.refresh_from_db()
    firsts = sum(poll.options.values_list("vote_count", flat=True))
    rank_one = Vote.objects.filter(poll=poll, rank=1).count()
    return poll.total_votes, Ballot.objects.filter(poll=poll).count(), firsts, rank_one


def first_preferences(poll: Poll) -> dict[str, tuple[int, int]]:
    """Each option of a ranked poll: (its vote_count, its rank-1 rows)."""
    rows = Counter(Vote.objects.filter(poll=poll, rank=1).values_list("option__text", flat=True))
    return {text: (count, rows[text]) for text, count in poll.options.values_list("text", "vote_count")}


def rankings(poll: Poll) -> dict:
    """Each ballot's ranks in order, and its options in that order: ranks must run 1..k."""
    ballots = defaultdict(list)
    for ballot_id, rank, text in Vote.objects.filter(poll=poll).order_by("rank").values_list("ballot_id", "rank", "option__text"):
        ballots[ballot_id].append((rank, text))
    return dict(ballots)


def score_counts(poll: Poll) -> dict[str, tuple[int, int, int, int]]:
    """Each option of a score poll: (vote_count, rating rows, score_sum, sum of the scores in them)."""
    rows = Vote.objects.filter(poll=poll).values("option__text").annotate(n=Count("pk"), total=Sum("score"))
    found = {row["option__text"]: (row["n"], row["total"]) for row in rows}
    return {
        text: (count, found.get(text, (0, 0))[0], score_sum, found.get(text, (0, 0))[1])
        for text, count, score_sum in poll.options.values_list("text", "vote_count", "score_sum")
    }
