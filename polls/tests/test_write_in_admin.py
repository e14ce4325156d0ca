"""Suggested options in the moderators' admin, beside the reports: listed, filtered, searched, and accepted or
rejected in bulk through the services."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEntry
from polls import services
from polls.models import MAX_OPTIONS, Option, WriteIn
from polls.tests.factories import PollFactory, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:polls_writein_changelist")


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def suggestions(owner, other_user):
    """Tacos (an account's) and Ramen (anonymous) waiting; Curry rejected."""
    poll = PollFactory(author=owner, title="Where do we eat?", options=["Pizza", "Sushi"], allow_write_ins=True)
    tacos = services.suggest_option(poll=poll, voter=Voter(user=other_user), text="Tacos")
    ramen = services.suggest_option(poll=poll, voter=visitor(1), text="Ramen")
    curry = services.suggest_option(poll=poll, voter=visitor(2), text="Curry")
    services.reject_write_in(write_in=curry, actor=owner)
    return {"poll": poll, "tacos": tacos, "ramen": ramen, "curry": curry}


def act(client, action: str, rows):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [str(row.pk) for row in rows]})


def test_moderators_list_them_filtered_by_status_and_searched(moderator_client, suggestions):
    everything = moderator_client.get(CHANGELIST)
    waiting = moderator_client.get(CHANGELIST, {"status__exact": "pending"})
    found = moderator_client.get(CHANGELIST, {"q": "ramen"})

    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 3
    assert {row.text for row in waiting.context["cl"].result_list} == {"Tacos", "Ramen"}
    assert [row.text for row in found.context["cl"].result_list] == ["Ramen"]


def test_the_change_page_shows_a_suggestion_read_only(moderator_client, suggestions):
    page = moderator_client.get(reverse("admin:polls_writein_change", args=[suggestions["tacos"].pk]))

    assert page.status_code == 200
    assert "Tacos" in page.content.decode()
    moderator_client.post(reverse("admin:polls_writein_change", args=[suggestions["tacos"].pk]), {"status": "accepted"})
    assert WriteIn.objects.get(text="Tacos").status == WriteIn.Status.PENDING


def test_moderators_accept_in_bulk_and_the_audit_log_says_so(moderator_client, moderator, suggestions):
    act(moderator_client, "accept", [suggestions["tacos"], suggestions["ramen"], suggestions["curry"]])

    assert list(Option.objects.filter(poll=suggestions["poll"]).values_list("text", flat=True)) == [
        "Pizza",
        "Sushi",
        "Tacos",
        "Ramen",
    ]
    # The rejected one keeps its outcome.
    assert WriteIn.objects.get(text="Curry").status == WriteIn.Status.REJECTED
    assert AuditEntry.objects.filter(actor=moderator, action=AuditEntry.Action.WRITE_IN_ACCEPTED).count() == 2


def test_moderators_reject_in_bulk(moderator_client, moderator, suggestions):
    act(moderator_client, "reject", [suggestions["tacos"], suggestions["ramen"]])

    assert set(WriteIn.objects.values_list("status", flat=True)) == {WriteIn.Status.REJECTED}
    assert list(WriteIn.objects.filter(text="Tacos").values_list("handled_by", flat=True)) == [moderator.pk]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WRITE_IN_REJECTED).count() == 2


def test_a_refused_acceptance_is_named_and_the_rest_go_through(moderator_client, owner, suggestions):
    full = PollFactory(author=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS - 1)], allow_write_ins=True)
    late = services.suggest_option(poll=full, voter=visitor(3), text="One too many")
    Option.objects.create(poll=full, text="Filled meanwhile", position=MAX_OPTIONS)

    response = act(moderator_client, "accept", [late, suggestions["tacos"]])

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said[0].startswith("“One too many” on ")
    assert WriteIn.objects.get(text="One too many").status == WriteIn.Status.PENDING
    assert WriteIn.objects.get(text="Tacos").status == WriteIn.Status.ACCEPTED


def test_nobody_adds_or_deletes_suggestions_here(moderator_client, suggestions):
    assert moderator_client.get(reverse("admin:polls_writein_add")).status_code == 403
    assert moderator_client.get(reverse("admin:polls_writein_delete", args=[suggestions["tacos"].pk])).status_code == 403


def test_the_moderators_group_may_read_and_decide(moderator):
    assert moderator.has_perm("polls.view_writein") and moderator.has_perm("polls.change_writein")
    assert not moderator.has_perm("polls.delete_writein")
