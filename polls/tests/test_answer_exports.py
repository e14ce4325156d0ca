"""Exports of open-text polls: every answer, hidden ones marked, with the voter shown as ballots show them
(account or anonymous, nobody named), to the poll's managers only."""

import csv
import io

import pytest

from accounts.tests.factories import UserFactory
from polls import answers, presenting
from polls.models import Answer
from polls.tests.factories import PollFactory, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db

KIM_ADDRESS, KIM_BROWSER = "198.51.100.9", "KimBrowser/1.0"


@pytest.fixture
def kim(db):
    return UserFactory(username="kim-the-voter", email="kim@example.test")


@pytest.fixture
def text_poll(owner, kim):
    """Five answers in three groups, two of them spelled apart; the author hides the rude group."""
    poll = PollFactory(author=owner, title="One word for today?", method="text", options=[], answers_per_voter=3)
    answers.submit_answer(poll=poll, voter=visitor(1, ip_address="203.0.113.1"), text="Coffee")
    answers.submit_answer(poll=poll, voter=visitor(2, ip_address="203.0.113.2"), text="  coffee! ")
    answers.submit_answer(poll=poll, voter=visitor(3, ip_address="203.0.113.3"), text="=SUM(A1:A9)")
    account = Voter(user=kim, ip_address=KIM_ADDRESS, user_agent=KIM_BROWSER)
    answers.submit_answer(poll=poll, voter=account, text="Sleepy")
    answers.submit_answer(poll=poll, voter=account, text="Boring")
    answers.hide(poll=poll, actor=owner, key=answers.normalise("Boring"))
    return poll


def export(client, poll, fmt: str):
    response = client.get(f"/api/polls/{poll.pk}/export?format={fmt}")
    assert response.status_code == 200, response.content
    return response


def names_no_voter(body: str, poll) -> None:
    """The file says "account" or "anonymous", never who: no username, email, address, browser or anonymous id."""
    for answer in Answer.objects.filter(poll=poll).select_related("user"):
        secrets = [answer.anon_id, answer.ip_address]
        if answer.user:
            secrets += [answer.user.username, answer.user.email, str(answer.user.pk)]
        assert [secret for secret in secrets if secret and secret in body] == [], answer
    assert KIM_BROWSER not in body


def test_the_json_export_carries_every_answer_hidden_ones_marked(owner_client, text_poll):
    response = export(owner_client, text_poll, "json")
    body = response.json()

    assert body["poll"]["method"] == "text" and body["poll"]["options"] == []
    assert body["ballots"] == []
    rows = body["answers"]
    assert [row["answer"] for row in rows] == [1, 2, 3, 4, 5]
    assert [(row["text"], row["voter_kind"], row["hidden"]) for row in rows] == [
        ("Coffee", "anonymous", False),
        ("coffee!", "anonymous", False),
        ("=SUM(A1:A9)", "anonymous", False),
        ("Sleepy", "account", False),
        ("Boring", "account", True),
    ]
    stored = list(Answer.objects.filter(poll=text_poll).order_by("created_at", "pk"))
    assert [row["key"] for row in rows] == [answer.key for answer in stored]
    assert rows[0]["key"] == rows[1]["key"] == answers.normalise("Coffee")
    assert [row["created_at"] for row in rows] == [answer.created_at.isoformat() for answer in stored]
    assert set(rows[0]) == {"answer", "voter_kind", "created_at", "text", "key", "hidden"}
    # The results beside them are the visible groups only, as every screen shows them.
    groups = body["results"]["answers"]["groups"]
    assert [(group["key"], group["count"]) for group in groups][0] == (answers.normalise("Coffee"), 2)
    assert answers.normalise("Boring") not in [group["key"] for group in groups]
    assert body["results"]["total_votes"] == 4
    names_no_voter(response.content.decode(), text_poll)


def test_the_csv_export_lists_the_groups_then_every_answer(owner_client, text_poll):
    response = export(owner_client, text_poll, "csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    blank = rows.index([])
    groups, answer_rows = rows[1:blank], rows[blank + 2 :]

    assert response["Content-Disposition"] == f'attachment; filename="{text_poll.slug}.csv"'
    assert rows[0] == ["group", "text", "answers"]
    assert groups[0][1:] == ["Coffee", "2"]
    assert len(groups) == 3  # coffee, sleepy and the formula; the hidden group is not a result
    assert rows[blank + 1] == ["answer", "voter_kind", "created_at", "text", "key", "hidden"]
    assert [(row[0], row[1], row[3], row[5]) for row in answer_rows] == [
        ("1", "anonymous", "Coffee", "no"),
        ("2", "anonymous", "coffee!", "no"),
        ("3", "anonymous", "'=SUM(A1:A9)", "no"),  # a voter's text never runs as a spreadsheet formula
        ("4", "account", "Sleepy", "no"),
        ("5", "account", "Boring", "yes"),
    ]
    assert answer_rows[0][4] == answer_rows[1][4] == answers.normalise("Coffee")
    names_no_voter(response.content.decode(), text_poll)


@pytest.mark.parametrize("export_format", ["csv", "json"])
def test_only_the_author_and_moderators_export_the_answers(
    client_for, owner, other_user, staff_user, moderator, kim, text_poll, export_format
):
    path = f"/api/polls/{text_poll.pk}/export?format={export_format}"

    statuses = {name: client_for(user).get(path) for name, user in [("anonymous", None), ("other", other_user), ("voter", kim)]}

    assert {name: (r.status_code, r.json()["code"]) for name, r in statuses.items()} == {
        "anonymous": (401, "login_required"),
        "other": (403, "not_owner"),
        "voter": (403, "not_owner"),
    }
    for reader in (owner, staff_user, moderator):
        body = export(client_for(reader), text_poll, export_format).content.decode()
        assert "Sleepy" in body and "Boring" in body


def test_a_presenter_hiding_the_results_hides_nothing_from_the_authors_export(owner, owner_client, text_poll):
    # Managers see results the audience does not: the export is theirs.
    presenting.present(poll=text_poll, actor=owner, presenting=True, audience_results="hidden")

    rows = export(owner_client, text_poll, "json").json()["answers"]

    assert len(rows) == 5


def test_a_choice_polls_export_has_no_answers(owner_client, poll):
    assert "answers" not in export(owner_client, poll, "json").json()
