"""quickpoll.prepared: the SQL is written once per thread; the rows are read fresh every time."""

import threading
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from polls.models import Option, Poll
from polls.tests.factories import PollFactory
from quickpoll.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


class Counted:
    """A queryset builder that counts how often it is asked to build."""

    def __init__(self, build):
        self.build, self.calls = build, 0

    def __call__(self, *args):
        self.calls += 1
        return self.build(*args)


def test_a_prepared_query_builds_its_queryset_once_and_reads_fresh_rows_every_time(owner):
    builder = Counted(lambda pk: Poll.objects.filter(pk=pk))
    prepared = PreparedQuery(builder, Poll._meta.pk)
    first, second = PollFactory(author=owner, title="First"), PollFactory(author=owner, title="Second")

    assert prepared.first(first.pk).title == "First"
    Poll.objects.filter(pk=first.pk).update(title="Renamed", is_active=False)
    with CaptureQueriesContext(connection) as queries:
        renamed = prepared.first(first.pk)
    assert (renamed.title, renamed.is_active) == ("Renamed", False)
    assert prepared.first(str(second.pk)).title == "Second"  # an id as text, as a token carries it
    assert prepared.first(uuid.uuid4()) is None
    assert builder.calls == 1
    assert len(queries) == 1


def test_a_prepared_query_fills_in_select_related_and_converts_values(owner):
    poll = PollFactory(author=owner, embed_origins=["https://blog.example.org"])
    prepared = PreparedQuery(lambda pk: Poll.objects.select_related("author").filter(pk=pk), Poll._meta.pk)

    found = prepared.first(poll.pk)
    with CaptureQueriesContext(connection) as queries:
        assert found.author.username == owner.username
    assert len(queries) == 0
    assert found.embed_origins == ["https://blog.example.org"]  # JSON, converted as the ORM would
    assert found.created_at == Poll.objects.get(pk=poll.pk).created_at


def test_a_prepared_query_answers_every_row(owner):
    poll = PollFactory(author=owner)
    prepared = PreparedQuery(lambda poll_id: Option.objects.filter(poll_id=poll_id), Option._meta.get_field("poll"))

    assert {option.text for option in prepared.all(poll.pk)} == set(poll.options.values_list("text", flat=True))


def test_each_thread_compiles_its_own(owner):
    """A compiler holds its thread's connection, so another thread never runs on it."""
    builder = Counted(lambda pk: User.objects.filter(pk=pk))
    prepared = PreparedQuery(builder, User._meta.pk)
    prepared.first(owner.pk)

    def other_thread():
        try:
            prepared.all(uuid.uuid4())
        except DatabaseError:  # SQLite's test database is the test's own, locked for other threads
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()

    assert builder.calls == 2


def test_a_query_with_parameters_of_its_own_is_refused(owner):
    prepared = PreparedQuery(lambda pk: Poll.objects.filter(pk=pk, title="fixed"), Poll._meta.pk)

    with pytest.raises(ImproperlyConfigured):
        prepared.first(uuid.uuid4())


def test_a_query_taking_its_arguments_in_another_order_is_refused(owner):
    """The ORM sorts a filter's terms by name: given as (poll, anon_id) they would arrive swapped."""
    from polls.models import Ballot

    fields = (Ballot._meta.get_field("poll"), Ballot._meta.get_field("anon_id"))
    prepared = PreparedQuery(lambda poll_id, anon_id: Ballot.objects.filter(poll_id=poll_id, anon_id=anon_id), *fields)

    with pytest.raises(ImproperlyConfigured):
        prepared.first(uuid.uuid4(), "a-visitor")
