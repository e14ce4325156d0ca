from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification
from polls.models import Poll
from polls.services import close_expired_polls
from polls.tests.factories import PollFactory

pytestmark = pytest.mark.django_db


def _expire(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def test_expired_polls_close_once_and_their_authors_hear_of_it(owner):
    expired = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    running = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    _expire(expired)

    assert close_expired_polls() == 1
    assert close_expired_polls() == 0  # already closed: nothing changes, nobody is told twice

    expired.refresh_from_db()
    running.refresh_from_db()
    assert (expired.is_active, running.is_active) == (False, True)
    notices = Notification.objects.filter(recipient=owner, kind=Notification.Kind.POLL_CLOSED)
    assert list(notices.values_list("poll_id", flat=True)) == [expired.pk]


def test_the_command_reports_what_it_closed(owner, capsys):
    _expire(PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1)))
    call_command("close_expired_polls")
    assert "Closed 1 expired poll(s)." in capsys.readouterr().out
