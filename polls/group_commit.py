"""Group commit: the writes of many request threads in one transaction and one commit.

Every vote on a poll moves the same counter rows, and a transaction holds their row
locks until its commit is on disk. One transaction per vote therefore queues the
votes of a busy poll behind each other's disk flushes. Here the first thread to
arrive leads: it writes everything that is waiting in one batch, commits once and
hands every waiting thread its own outcome. Threads that arrive meanwhile wait for
the next batch, which the first of them leads. Nobody gets an answer before their
write is committed.
"""

import threading
from typing import Callable, Generic, Sequence, TypeVar

from quickpoll import metrics

Payload = TypeVar("Payload")
Outcome = TypeVar("Outcome")


class _Entry(Generic[Payload]):
    __slots__ = ("payload", "outcome", "leads", "done")

    def __init__(self, payload: Payload):
        self.payload = payload
        self.outcome: object = None
        self.leads = False
        self.done = threading.Event()


class GroupCommit(Generic[Payload, Outcome]):
    """`write_batch(payloads)` returns, for each payload in order, its outcome or the exception to raise.

    `before_waiting` runs in a thread about to wait for someone else's batch: it can give
    back what the wait does not need (a database connection, to the pool).
    """

    def __init__(
        self,
        write_batch: Callable[[Sequence[Payload]], list],
        *,
        max_batch: int = 200,
        before_waiting: Callable[[], None] = lambda: None,
    ):
        self._write_batch = write_batch
        self._before_waiting = before_waiting
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Entry] = []
        self._leader_busy = False

    def submit(self, payload: Payload) -> Outcome:
        entry = _Entry(payload)
        with self._lock:
            self._waiting.append(entry)
            entry.leads = not self._leader_busy
            self._leader_busy = True
        if not entry.leads:
            self._before_waiting()
            entry.done.wait()  # woken with an outcome, or to lead the next batch
        if entry.leads:
            self._lead()
        if isinstance(entry.outcome, BaseException):
            raise entry.outcome
        return entry.outcome

    def _lead(self) -> None:
        with self._lock:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
        metrics.group_commit_batch_size.observe(len(batch))
        outcomes: list = [RuntimeError("the batch was interrupted")] * len(batch)
        try:
            outcomes = self._write_batch([entry.payload for entry in batch])
        except Exception as error:  # the whole batch failed (the database is out of reach, say)
            outcomes = [error] * len(batch)
        finally:
            # Whatever happened, every waiter gets an answer and the next batch a leader.
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                if successor is None:
                    self._leader_busy = False
                else:
                    successor.leads = True
            for entry, outcome in zip(batch, outcomes, strict=True):
                entry.outcome = outcome
                entry.done.set()
            if successor is not None:
                successor.done.set()
