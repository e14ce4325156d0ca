"""Presenting a poll to a room: the presenter shows or hides the results for the audience.

While a poll is presented, Poll.audience_results stands in for its results_visibility rule
(polls.permissions.can_see_results): `shown` reveals the results to everyone, `hidden` keeps them
from everyone but the poll's managers, `rule` leaves the rule to decide. Ending the presentation
puts the rule back. Opening and closing voting stays polls.services.set_poll_active.
"""

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from accounts import audit
from accounts.models import User
from polls import announce, errors, public_bodies
from polls.models import Poll
from polls.permissions import acts_as_moderator, can_see_results, require_manager

logger = structlog.get_logger(__name__)


def present(
    *, poll: Poll, actor: User, presenting: bool | None = None, audience_results: str | None = None
) -> Poll:
    """Start or end presenting, and say what the audience sees of the results. Showing or hiding the
    results starts presenting; ending it puts the poll's own rule back. Changes nothing if nothing changes."""
    require_manager(poll, actor)
    if audience_results is not None and audience_results not in Poll.AudienceResults.values:
        raise errors.InvalidPresentation(
            {"audience_results": [gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Poll.AudienceResults.values)}]}
        )
    if presenting is False and audience_results not in (None, Poll.AudienceResults.RULE):
        raise errors.InvalidPresentation({"audience_results": [_("Results are shown or hidden while presenting.")]})
    with transaction.atomic():
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        since = locked.presenting_since
        results = audience_results or locked.audience_results
        if presenting is False:
            since, results = None, Poll.AudienceResults.RULE
        elif presenting or audience_results not in (None, Poll.AudienceResults.RULE):
            since = since or timezone.now()
        if (since, results) != (locked.presenting_since, locked.audience_results):
            # A new results version: cached bodies and every audience socket see the change at once.
            Poll.objects.filter(pk=poll.pk).update(
                presenting_since=since, audience_results=results, results_version=F("results_version") + 1
            )
            locked.refresh_from_db()
            public_bodies.forget_on_commit(poll.pk)
            announce.presentation_changed(locked)
            if acts_as_moderator(actor, locked):
                audit.record(
                    actor=actor,
                    action=audit.Action.POLL_PRESENTED,
                    target=locked,
                    details={"presenting": since is not None, "audience_results": results},
                )
    logger.info("presentation_changed", poll_id=str(poll.pk), presenting=since is not None, audience_results=results)
    poll.presenting_since, poll.audience_results, poll.results_version = (
        locked.presenting_since,
        locked.audience_results,
        locked.results_version,
    )
    return locked


def audience_sees_results(poll: Poll) -> bool:
    """Whether someone in the room who has not voted (no account, no ballot) sees the results now."""
    return can_see_results(poll=poll, user=None, has_voted=False)


def presentation_state(poll: Poll) -> dict:
    """What the presenter screen and the API show of a presentation."""
    return {
        "presenting": poll.is_presenting,
        "presenting_since": poll.presenting_since,
        "audience_results": poll.audience_results,
        "results_visible_to_audience": audience_sees_results(poll),
        "is_open": poll.is_open,
        "join_code": poll.join_code,
    }
