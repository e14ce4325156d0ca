"""Secret ballots: who took part and what they chose live apart, and nothing links the two."""

import csv
import io
import logging
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from accounts.models import Notification
from accounts.tests.factories import UserFactory
from polls import errors, secret_ballots, services
from polls.models import Ballot, Option, Poll, SealedBallot, Vote
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_poll(owner):
    return PollFactory(author=owner, title="Who should chair?", is_secret=True)


@pytest.fixture
def secret_multi(owner):
    return PollFactory(author=owner, title="Pick two", is_secret=True, allow_multiple=True, max_choices=2)


def cast(poll, voter, *texts):
    return services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, *texts))


def close(poll):
    services.set_poll_active(poll=poll, actor=poll.author, active=False)
    poll.refresh_from_db()


def sealed_counts(poll) -> tuple[int, int, dict]:
    """(total_votes, picks in the sealed ballots, per option count == per option picks)."""
    poll.refresh_from_db()
    picks = [option_id for sealed in SealedBallot.objects.filter(poll=poll) for option_id in sealed.option_ids]
    counts = {str(pk): count for pk, count in Option.objects.filter(poll=poll).values_list("pk", "vote_count")}
    return poll.total_votes, len(picks), counts == {option_id: picks.count(option_id) for option_id in counts}


# --- The no-link property, in the schema ------------------------------------------------------------


def test_a_sealed_ballot_has_no_key_to_a_voter_or_a_ballot_and_no_time():
    fields = SealedBallot._meta.get_fields()
    related = {field.related_model for field in fields if field.is_relation}
    assert related == {Poll}
    assert not [field for field in fields if isinstance(field, (models.DateTimeField, models.DateField, models.TimeField))]
    assert isinstance(SealedBallot._meta.pk, models.UUIDField)
    assert SealedBallot._meta.pk.default.__name__ == "uuid4"  # random, never sequential
    # And nothing points at a sealed ballot either.
    assert not [field for field in fields if field.auto_created and not field.concrete]


def test_the_participation_row_of_a_secret_ballot_keeps_the_polls_time_and_no_browser(secret_poll, other_user):
    voter = Voter(user=other_user, ip_address="198.51.100.7", user_agent="Firefox")
    cast(secret_poll, voter, "Red")

    ballot = Ballot.objects.get(poll=secret_poll)
    assert ballot.created_at == secret_poll.created_at
    assert ballot.user_agent == ""
    assert ballot.ip_address is None  # an account voter is capped by nothing that needs the address
    assert not Vote.objects.filter(poll=secret_poll).exists()
    assert "receipt" not in {field.name for field in Ballot._meta.get_fields()}


def test_an_anonymous_secret_ballot_keeps_the_address_the_cap_counts(secret_poll):
    cast(secret_poll, visitor(1, ip_address="203.0.113.9"), "Red")
    assert Ballot.objects.get(poll=secret_poll).ip_address == "203.0.113.9"


def test_an_ordinary_ballot_still_records_when_and_how(poll, other_user):
    before = timezone.now()
    cast(poll, Voter(user=other_user, ip_address="198.51.100.7", user_agent="Firefox"), "Red")
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.created_at >= before and ballot.user_agent == "Firefox"
    assert Vote.objects.filter(poll=poll).count() == 1
    assert not SealedBallot.objects.exists()


# --- Casting -----------------------------------------------------------------------------------------


def test_a_secret_ballot_is_counted_and_sealed_with_a_receipt(secret_multi, other_user):
    result = cast(secret_multi, Voter(user=other_user), "Red", "Blue")

    assert len(result.receipt) == secret_ballots.RECEIPT_LENGTH
    assert set(result.receipt) <= set(secret_ballots.RECEIPT_ALPHABET)
    assert result.votes == ()
    sealed = SealedBallot.objects.get(poll=secret_multi)
    assert sealed.receipt == result.receipt
    assert sorted(sealed.option_ids) == sorted(str(pk) for pk in pick(secret_multi, "Red", "Blue"))
    assert sealed_counts(secret_multi) == (2, 2, True)


def test_receipts_differ_and_a_second_ballot_is_refused(secret_poll, other_user):
    receipts = {cast(secret_poll, visitor(number), "Red").receipt for number in range(5)}
    cast(secret_poll, Voter(user=other_user), "Green")
    assert len(receipts) == 5

    with pytest.raises(errors.AlreadyVoted):
        cast(secret_poll, Voter(user=other_user), "Blue")
    assert sealed_counts(secret_poll) == (6, 6, True)


def test_a_secret_ballot_cannot_be_taken_back(secret_poll, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")

    with pytest.raises(errors.SecretBallotFinal) as refused:
        services.retract_ballot(poll=secret_poll, voter=Voter(user=other_user))
    assert refused.value.code == "secret_ballot_final" and refused.value.status == 409
    assert sealed_counts(secret_poll) == (1, 1, True)


def test_the_author_hears_that_someone_voted_not_who(secret_poll, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")
    notice = Notification.objects.get(recipient=secret_poll.author, kind=Notification.Kind.VOTE)
    assert notice.actor is None
    assert other_user.public_name not in notice.payload["message"]
    assert "Red" not in str(notice.payload)


def test_the_vote_log_line_carries_no_choice(secret_multi, other_user, caplog):
    with caplog.at_level(logging.INFO):
        cast(secret_multi, Voter(user=other_user), "Red", "Blue")
    lines = [str(record.msg) for record in caplog.records if "vote_cast" in str(record.msg)]
    assert lines
    for option_id in pick(secret_multi, "Red", "Blue"):
        assert str(option_id) not in "".join(lines)
    assert "'options': None" in lines[0]


def test_the_voters_own_tabs_are_told_no_choice(secret_poll, other_user, monkeypatch):
    told = []
    monkeypatch.setattr(services.announce, "ballots_cast", lambda voters, confirmations: told.extend(confirmations))
    cast(secret_poll, Voter(user=other_user), "Red")
    [(user_id, message)] = told
    assert user_id == other_user.pk and message["option_ids"] == []


# --- Making a poll secret ------------------------------------------------------------------------------


def test_secret_polls_show_results_only_once_closed(owner):
    poll = PollFactory(author=owner, is_secret=True, results_visibility=Poll.ResultsVisibility.ALWAYS)
    assert poll.results_visibility == Poll.ResultsVisibility.AFTER_CLOSE
    owner_only = PollFactory(author=owner, is_secret=True, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    assert owner_only.results_visibility == Poll.ResultsVisibility.OWNER_ONLY


def test_a_poll_becomes_secret_before_its_first_ballot_only(poll, owner, other_user):
    services.update_poll(poll=poll, actor=owner, is_secret=True)
    poll.refresh_from_db()
    assert poll.is_secret and poll.results_visibility == Poll.ResultsVisibility.AFTER_CLOSE
    services.update_poll(poll=poll, actor=owner, is_secret=False)  # still no ballot: either way

    cast(poll, Voter(user=other_user), "Red")
    with pytest.raises(errors.SecretBallotLocked) as refused:
        services.update_poll(poll=poll, actor=owner, is_secret=True)
    assert refused.value.code == "secret_ballot_locked"
    poll.refresh_from_db()
    assert not poll.is_secret


def test_a_secret_poll_with_a_ballot_stays_secret(secret_poll, owner, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")
    other_user.delete()  # its participation row goes; the sealed ballot still counts as a ballot
    with pytest.raises(errors.SecretBallotLocked):
        services.update_poll(poll=secret_poll, actor=owner, is_secret=False)
    services.update_poll(poll=secret_poll, actor=owner, title="Still secret")  # other edits go on


def test_a_ballot_on_its_way_while_the_poll_turns_secret_is_written_as_secret(poll, owner, other_user):
    stale = Poll.objects.get(pk=poll.pk)  # loaded by the vote's request before the edit committed
    services.update_poll(poll=poll, actor=owner, is_secret=True)

    result = services.cast_vote(poll=stale, voter=Voter(user=other_user, user_agent="Firefox"), option_ids=pick(poll, "Red"))

    assert result.receipt and not Vote.objects.filter(poll=poll).exists()
    ballot = Ballot.objects.get(poll=poll)
    assert (ballot.created_at, ballot.user_agent) == (poll.created_at, "")
    assert sealed_counts(poll) == (1, 1, True)


# --- Counts when things are taken away -----------------------------------------------------------


def test_deleting_a_voters_account_keeps_the_secret_ballot_counted(secret_poll, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")
    cast(secret_poll, visitor(1), "Green")

    other_user.delete()  # runs take_back_account first

    assert not Ballot.objects.filter(poll=secret_poll, user__isnull=False).exists()
    assert sealed_counts(secret_poll) == (2, 2, True)


def test_removing_an_option_takes_its_picks_out_of_sealed_ballots(secret_multi):
    cast(secret_multi, visitor(1), "Red", "Blue")
    cast(secret_multi, visitor(2), "Red")
    cast(secret_multi, visitor(3), "Green")

    services.remove_options(options=Option.objects.filter(poll=secret_multi, text="Red"))

    assert sealed_counts(secret_multi) == (2, 2, True)
    assert SealedBallot.objects.filter(poll=secret_multi).count() == 3  # the emptied ballot was still cast


# --- Results, the list and the receipt --------------------------------------------------------------


def test_not_even_the_author_sees_an_open_secret_polls_results(secret_poll, owner_client, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")

    body = owner_client.get(f"/api/polls/{secret_poll.pk}").json()
    assert body["results_visible"] is False and body["is_secret"] is True
    assert "votes" not in body["options"][0]
    assert owner_client.get(f"/api/votes/poll/{secret_poll.pk}/stats").status_code == 403
    response = owner_client.get(f"/api/polls/{secret_poll.pk}/export?format=csv")
    assert (response.status_code, response.json()["code"]) == (403, "results_hidden")

    close(secret_poll)
    assert owner_client.get(f"/api/polls/{secret_poll.pk}").json()["results_visible"] is True


def test_the_vote_answer_carries_the_receipt_and_no_choice(secret_poll, other_client):
    response = other_client.post(
        "/api/votes", {"poll_id": str(secret_poll.pk), "option_ids": [str(pick(secret_poll, "Red")[0])]}, format="json"
    )
    body = response.json()
    assert response.status_code == 201
    assert body["votes"] == [] and body["results"] is None
    assert SealedBallot.objects.get(poll=secret_poll).receipt == body["receipt"]


def test_taking_a_secret_ballot_back_over_the_api_is_refused(secret_poll, other_client, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")
    response = other_client.delete(f"/api/votes/poll/{secret_poll.pk}")
    assert (response.status_code, response.json()["code"]) == (409, "secret_ballot_final")


def test_the_ballot_list_is_in_receipt_order_once_results_show(secret_multi, api_client):
    receipts = [cast(secret_multi, visitor(number), "Red", "Green").receipt for number in range(4)]
    cast(secret_multi, visitor(9), "Blue")
    url = f"/api/polls/{secret_multi.pk}/ballots"
    assert (api_client.get(url).status_code, api_client.get(url).json()["code"]) == (403, "results_hidden")

    close(secret_multi)
    body = api_client.get(url).json()

    listed = [row["receipt"] for row in body["results"]]
    assert body["count"] == 5 and listed == sorted(listed) and set(receipts) <= set(listed)
    red_green = next(row for row in body["results"] if row["receipt"] == receipts[0])
    assert [option["text"] for option in red_green["options"]] == ["Red", "Green"]
    assert set(body["results"][0]) == {"receipt", "options"}


def test_the_ballot_list_as_csv(secret_multi, api_client):
    receipt = cast(secret_multi, visitor(1), "Red", "Blue").receipt
    close(secret_multi)

    response = api_client.get(f"/api/polls/{secret_multi.pk}/ballots?format=csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["receipt", "option"], [receipt, "Red"], [receipt, "Blue"]]


def test_the_authors_export_of_a_secret_poll_has_receipts_not_voters(secret_poll, owner_client, other_user):
    receipt = cast(secret_poll, Voter(user=other_user), "Red").receipt
    close(secret_poll)

    text = owner_client.get(f"/api/polls/{secret_poll.pk}/export?format=csv").content.decode()
    assert "receipt,option" in text and f"{receipt},Red" in text
    assert "account" not in text and "cast_at" not in text
    ballots = owner_client.get(f"/api/polls/{secret_poll.pk}/export?format=json").json()["ballots"]
    assert ballots == [{"receipt": receipt, "options": ["Red"]}]


def test_an_ordinary_poll_has_no_ballot_list_or_receipts(poll, api_client):
    assert api_client.get(f"/api/polls/{poll.pk}/ballots").status_code == 404
    assert api_client.get(f"/api/polls/{poll.pk}/receipts/ABCDEFGHJK").status_code == 404


def test_a_receipt_says_counted_at_once_and_its_choice_once_results_show(secret_poll, api_client):
    receipt = cast(secret_poll, visitor(1), "Green").receipt
    url = f"/api/polls/{secret_poll.pk}/receipts/{receipt.lower()[:5]}-{receipt.lower()[5:]}"

    body = api_client.get(url).json()
    assert body == {"receipt": receipt, "counted": True, "options": None, "results_visible": False}

    close(secret_poll)
    assert api_client.get(url).json()["options"] == [{"id": str(pick(secret_poll, "Green")[0]), "text": "Green"}]
    missing = api_client.get(f"/api/polls/{secret_poll.pk}/receipts/ZZZZZZZZZZ")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_the_ballot_list_refuses_other_methods_and_unknown_polls(secret_poll, owner_client):
    assert owner_client.post(f"/api/polls/{secret_poll.pk}/ballots").status_code == 405
    assert owner_client.get("/api/polls/00000000-0000-0000-0000-000000000000/ballots").status_code == 404
    assert owner_client.get(f"/api/polls/{secret_poll.pk}/ballots?format=xml").status_code == 400


def test_creating_a_secret_poll_over_the_api(owner_client):
    response = owner_client.post(
        "/api/polls", {"title": "Board vote", "options": ["Yes", "No"], "is_secret": True}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["is_secret"] is True and body["results_visibility"] == "after_close"


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_page_says_a_secret_vote_is_final_before_voting(client, secret_poll):
    page = client.get(f"/p/{secret_poll.slug}/").content.decode()
    assert "secret ballot" in page and "cannot be changed or taken back" in page
    assert "Check my receipt" in page


def test_voting_on_the_page_shows_the_receipt_once_and_no_change_button(client, secret_poll):
    response = client.post(f"/p/{secret_poll.slug}/vote/", {"option": str(pick(secret_poll, "Red")[0])}, follow=True)
    receipt = SealedBallot.objects.get(poll=secret_poll).receipt
    page = response.content.decode()
    assert receipt in page and "Change my vote" not in page and "your vote is final" in page
    assert receipt not in client.get(f"/p/{secret_poll.slug}/").content.decode()  # shown once


def test_my_profile_lists_a_secret_ballot_without_its_choice(client, secret_poll, other_user):
    cast(secret_poll, Voter(user=other_user), "Red")
    client.force_login(other_user)
    page = client.get(f"/u/{other_user.username}/").content.decode()
    assert f"{secret_poll.title}</a>: secret ballot</li>" in page


def test_the_receipt_page_checks_a_code(client, secret_poll):
    receipt = cast(secret_poll, visitor(1), "Blue").receipt

    found = client.get(f"/p/{secret_poll.slug}/receipt/", {"code": receipt.lower()})
    assert found.status_code == 200 and "is counted" in found.content.decode()
    assert "Blue" not in found.content.decode().split("<h1>")[1]  # hidden while open

    missing = client.get(f"/p/{secret_poll.slug}/receipt/", {"code": "ZZZZZZZZZZ"})
    assert missing.status_code == 404 and "No ballot of this poll" in missing.content.decode()

    close(secret_poll)
    assert "<li>Blue</li>" in client.get(f"/p/{secret_poll.slug}/receipt/", {"code": receipt}).content.decode()


def test_the_form_makes_a_poll_secret_and_locks_it_after_a_ballot(client, owner):
    client.force_login(owner)
    client.post("/polls/new/", {"title": "Secret?", "options": ["A", "B"], "is_secret": "on", "results_visibility": "always"})
    poll = Poll.objects.get(title="Secret?")
    assert poll.is_secret and poll.results_visibility == "after_close"

    cast(poll, Voter(user=UserFactory()), "A")
    form = client.get(f"/p/{poll.slug}/edit/").content.decode()
    [checkbox] = re.findall(r'<input[^>]*name="is_secret"[^>]*>', form)
    assert "disabled" in checkbox and "checked" in checkbox


# --- The admin and the clock ----------------------------------------------------------------------------


def test_the_admin_hides_an_open_secret_polls_counts(client, secret_poll, moderator):
    cast(secret_poll, visitor(1), "Red")
    client.force_login(moderator)
    page = client.get(f"/admin/polls/poll/{secret_poll.pk}/change/").content.decode()
    assert "sealed until the poll closes" in page
    assert client.get("/admin/polls/sealedballot/").status_code == 403  # moderators read results on the poll

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    sealed_list = client.get("/admin/polls/sealedballot/")
    assert sealed_list.status_code == 200
    receipt = SealedBallot.objects.get().receipt
    assert receipt not in sealed_list.content.decode()

    close(secret_poll)
    assert receipt in client.get("/admin/polls/sealedballot/").content.decode()


def test_resealing_rewrites_a_polls_ballots_and_keeps_them(secret_poll):
    receipts = sorted(cast(secret_poll, visitor(number), "Red").receipt for number in range(3))
    first_ids = set(SealedBallot.objects.values_list("pk", flat=True))

    assert secret_ballots.reseal_pending() == 1
    assert secret_ballots.reseal_pending() == 0  # nothing new since

    rows = list(SealedBallot.objects.filter(poll=secret_poll))
    assert sorted(row.receipt for row in rows) == receipts and all(row.resealed for row in rows)
    assert not first_ids & {row.pk for row in rows}  # new rows, new random ids
    assert sealed_counts(secret_poll) == (3, 3, True)


def test_the_clock_reseals(secret_poll, capsys):
    cast(secret_poll, visitor(1), "Red")
    call_command("close_expired_polls")
    assert "Resealed the ballots of 1 secret poll(s)." in capsys.readouterr().out
    assert SealedBallot.objects.get().resealed


def test_a_secret_poll_that_closes_by_the_clock_shows_its_results(secret_poll, api_client):
    cast(secret_poll, visitor(1), "Red")
    Poll.objects.filter(pk=secret_poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    body = api_client.get(f"/api/polls/{secret_poll.pk}").json()
    assert body["results_visible"] is True
    assert {option["text"]: option["votes"] for option in body["options"]} == {"Red": 1, "Green": 0, "Blue": 0}


def test_another_accounts_secret_ballot_in_a_batch_stays_apart(secret_poll):
    voters = [Voter(user=UserFactory()) for _ in range(3)]
    for voter in voters:
        cast(secret_poll, voter, "Red")
    assert Ballot.objects.filter(poll=secret_poll).count() == 3
    assert {ballot.created_at for ballot in Ballot.objects.filter(poll=secret_poll)} == {secret_poll.created_at}
