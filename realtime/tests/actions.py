"""What users do, callable from async tests: each runs the real service in a worker thread.

Run this way, a service's transaction.on_commit callbacks publish on the test's event
loop, which the sockets' ServerLoopMiddleware registered as the server's: the coalescer
then schedules snapshots exactly as it does under daphne.
"""

from channels.db import database_sync_to_async

from polls import services
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter


def visitor(number: int = 1) -> Voter:
    """An anonymous voter whose id is valid in the quickpoll_anon cookie (16 to 64 characters)."""
    return Voter(anon_id=f"socket-visitor-{number:04d}", ip_address="203.0.113.1", user_agent="pytest")


@database_sync_to_async
def make_poll(**fields):
    return PollFactory(**fields)


@database_sync_to_async
def vote(poll, voter: Voter, *texts: str):
    return services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, *(texts or ["Red"])))


@database_sync_to_async
def like(poll, voter: Voter):
    return services.like_poll(poll=poll, voter=voter)


@database_sync_to_async
def option_ids(poll, *texts: str) -> list[str]:
    return [str(pk) for pk in pick(poll, *texts)]
