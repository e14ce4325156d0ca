import factory

from polls import services
from polls.models import Like, Option, Poll, Vote
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
    equal its rating rows and their scores."""
    poll.refresh_from_db()
    option_total = sum(poll.options.values_list("vote_count", flat=True))
    if poll.method == Poll.Method.RANKED:
        return poll.total_votes, option_total, Vote.objects.filter(poll=poll, rank=1).count()
    if poll.method == Poll.Method.SCORE:
        for option in poll.options.all():
            ratings = Vote.objects.filter(option=option).values_list("score", flat=True)
            assert (option.vote_count, option.score_sum) == (len(ratings), sum(ratings)), option.text
        rated = Vote.objects.filter(poll=poll).values("ballot_id").distinct().count()
        return poll.total_votes, rated, poll.ballots.count()
    if poll.is_secret:
        picks = sum(len(option_ids) for option_ids in poll.sealed_ballots.values_list("option_ids", flat=True))
        return poll.total_votes, option_total, picks
    return poll.total_votes, option_total, Vote.objects.filter(poll=poll).count()


def like_counts(poll: Poll) -> tuple[int, int]:
    """(poll.likes_count, its Like rows)."""
    poll.refresh_from_db()
    return poll.likes_count, Like.objects.filter(poll=poll).count()
