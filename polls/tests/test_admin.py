"""The moderation admin: who gets in, what renders, and that deleting keeps counters right."""

import pytest
from django.urls import reverse

from accounts.models import Notification, User
from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Ballot, Like, Option, Poll, Report, Vote
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = pytest.mark.django_db

# Every model in the moderation admin, by the prefix of its admin URL names.
ADMIN_MODELS = {
    f"{model._meta.app_label}_{model._meta.model_name}": model
    for model in [User, Notification, Poll, Option, Ballot, Vote, Like, Report]
}


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture(params=["moderator", "superuser"])
def staff_client(request, client):
    client.force_login(request.getfixturevalue(request.param))
    return client


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def poll(owner, other_user):
    """Multiple choice; 3 ballots, 4 votes (Red 2, Green 1, Blue 1), 2 likes, a report, notifications."""
    poll = PollFactory(author=owner, title="Favourite colours", allow_multiple=True)
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red", "Green"))
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=visitor(2), option_ids=pick(poll, "Blue"))
    services.like_poll(poll=poll, voter=Voter(user=other_user))
    services.like_poll(poll=poll, voter=visitor(1))
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)
    Notification.objects.create(recipient=owner, kind=Notification.Kind.VOTE, poll=poll, actor=other_user)
    assert vote_counts(poll) == (4, 4, 4)
    return poll


def change_form_data(client, change_url: str, **changes) -> dict:
    """What a browser would post back from the change page, with `changes` applied (False unticks)."""
    page = client.get(change_url)
    assert page.status_code == 200
    data = {"_save": "Save"}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
        forms += inline.formset.forms
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if not field.disabled and value not in (None, False, ""):
                data[form.add_prefix(name)] = [str(item) for item in value] if isinstance(value, list) else str(value)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = str(value)
    return data


def post_action(client, changelist: str, action: str, rows, **extra):
    data = {"action": action, "_selected_action": [str(row.pk) for row in rows]} | extra
    return client.post(url(f"{changelist}_changelist"), data)


# --- who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("changelist", ADMIN_MODELS)
def test_every_changelist_renders_for_staff(staff_client, poll, changelist):
    response = staff_client.get(url(f"{changelist}_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("changelist", ADMIN_MODELS)
def test_every_change_page_renders_for_staff(staff_client, poll, changelist):
    row = ADMIN_MODELS[changelist].objects.first()

    response = staff_client.get(url(f"{changelist}_change", row.pk))

    assert response.status_code == 200


def test_the_poll_change_page_shows_its_options(staff_client, poll):
    response = staff_client.get(url("polls_poll_change", poll.pk))

    assert response.status_code == 200
    assert [form.instance.text for form in response.context["inline_admin_formsets"][0].formset.forms] == [
        "Red",
        "Green",
        "Blue",
    ]


@pytest.mark.parametrize("path", ["/admin/", "/admin/polls/poll/"])
def test_visitors_and_non_staff_are_sent_to_the_admin_login(client, other_user, path):
    for logged_in in [False, True]:
        if logged_in:
            client.force_login(other_user)

        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "model",
    ["polls_poll", "polls_option", "polls_vote", "polls_ballot", "polls_like", "polls_report", "accounts_user"],
)
def test_moderators_cannot_add_rows(moderator_client, model):
    assert moderator_client.get(url(f"{model}_add")).status_code == 403


# --- search and filters -----------------------------------------------------------------------------


def test_poll_search_and_filters(staff_client, poll, owner):
    closed = PollFactory(author=owner, title="Old question")
    Poll.objects.filter(pk=closed.pk).update(is_active=False, expires_at="2020-01-01T00:00Z")
    changelist = url("polls_poll_changelist")

    def found(query: str) -> list[str]:
        response = staff_client.get(changelist + query)
        assert response.status_code == 200
        return [row.title for row in response.context["cl"].result_list]

    assert found("?q=colours") == ["Favourite colours"]
    assert found("?q=owner") == ["Old question", "Favourite colours"]
    assert found("?is_active__exact=1") == ["Favourite colours"]
    assert found("?is_active__exact=0") == ["Old question"]
    assert found("?expired=yes") == ["Old question"]
    assert found("?expired=no") == ["Favourite colours"]


@pytest.mark.parametrize(
    ("changelist", "query", "count"),
    [
        ("polls_vote", "?voter=anonymous", 2),
        ("polls_vote", "?voter=account", 2),
        ("polls_vote", "?q=Red", 2),
        ("polls_vote", "?q=visitor-2", 1),
        ("polls_ballot", "?voter=anonymous", 2),
        ("polls_ballot", "?voter=account", 1),
        ("polls_ballot", "?q=other", 1),
        ("polls_like", "?voter=anonymous", 1),
        ("polls_like", "?q=colours", 2),
        ("polls_report", "?status__exact=open", 1),
        ("polls_report", "?status__exact=resolved", 0),
        ("polls_option", "?q=Gre", 1),
        ("accounts_user", "?q=owner", 1),
        ("accounts_user", "?is_active__exact=0", 0),
        ("accounts_notification", "?q=no-such-poll", 0),
    ],
)
def test_search_and_filters(staff_client, poll, changelist, query, count):
    response = staff_client.get(url(f"{changelist}_changelist") + query)

    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_notification_search_finds_a_polls_notifications(staff_client, poll, owner):
    other_poll = PollFactory(author=owner, title="Something else")
    Notification.objects.create(recipient=owner, kind=Notification.Kind.LIKE, poll=other_poll)

    response = staff_client.get(url("accounts_notification_changelist") + "?q=colours")

    assert {row.poll for row in response.context["cl"].result_list} == {poll}
    assert response.context["cl"].result_count == Notification.objects.filter(poll=poll).count()


# --- deleting through the admin moves the counters ------------------------------------------------


def test_deleting_a_vote_moves_the_counters(staff_client, poll, other_user):
    vote = Vote.objects.get(ballot__user=other_user, option__text="Red")
    delete_url = url("polls_vote_delete", vote.pk)

    assert staff_client.get(delete_url).status_code == 200
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302

    assert vote_counts(poll) == (3, 3, 3)
    assert poll.options.get(text="Red").vote_count == 1
    # The ballot still holds its Green vote.
    assert Ballot.objects.filter(user=other_user).exists()


def test_deleting_a_ballots_last_vote_deletes_the_ballot(staff_client, poll):
    vote = Vote.objects.get(ballot__anon_id="visitor-2")

    staff_client.post(url("polls_vote_delete", vote.pk), {"post": "yes"})

    assert vote_counts(poll) == (3, 3, 3)
    assert not Ballot.objects.filter(anon_id="visitor-2").exists()


def test_bulk_deleting_votes_moves_the_counters(staff_client, poll):
    votes = Vote.objects.filter(option__text__in=["Red", "Green"])

    response = post_action(staff_client, "polls_vote", "delete_selected", list(votes), post="yes")

    assert response.status_code == 302
    assert vote_counts(poll) == (1, 1, 1)
    assert list(Ballot.objects.values_list("anon_id", flat=True)) == ["visitor-2"]


def test_deleting_a_ballot_moves_the_counters(staff_client, poll, other_user):
    ballot = Ballot.objects.get(user=other_user)

    assert staff_client.post(url("polls_ballot_delete", ballot.pk), {"post": "yes"}).status_code == 302

    assert vote_counts(poll) == (2, 2, 2)
    assert not Ballot.objects.filter(pk=ballot.pk).exists()


def test_bulk_deleting_ballots_moves_the_counters(staff_client, poll):
    ballots = Ballot.objects.filter(user__isnull=True)

    post_action(staff_client, "polls_ballot", "delete_selected", list(ballots), post="yes")

    assert vote_counts(poll) == (2, 2, 2)
    assert Ballot.objects.count() == 1


def test_deleting_a_like_moves_the_count(staff_client, poll):
    like = Like.objects.get(anon_id="visitor-1")

    assert staff_client.post(url("polls_like_delete", like.pk), {"post": "yes"}).status_code == 302

    assert like_counts(poll) == (1, 1)


def test_bulk_deleting_likes_moves_the_count(staff_client, poll):
    post_action(staff_client, "polls_like", "delete_selected", list(Like.objects.all()), post="yes")

    assert like_counts(poll) == (0, 0)


def test_deleting_an_option_takes_its_votes_and_their_counts_along(staff_client, poll):
    red = poll.options.get(text="Red")

    assert staff_client.post(url("polls_option_delete", red.pk), {"post": "yes"}).status_code == 302

    assert list(poll.options.values_list("text", flat=True)) == ["Green", "Blue"]
    assert vote_counts(poll) == (2, 2, 2)
    # visitor-1 had voted Red only: no empty ballot is left behind.
    assert not Ballot.objects.filter(anon_id="visitor-1").exists()


@pytest.mark.parametrize("how", ["delete_view", "delete_selected"])
def test_deleting_an_account_takes_its_votes_and_likes_off_the_counters(client, superuser, poll, other_user, how):
    client.force_login(superuser)

    if how == "delete_view":
        response = client.post(url("accounts_user_delete", other_user.pk), {"post": "yes"})
    else:
        response = post_action(client, "accounts_user", "delete_selected", [other_user], post="yes")

    assert response.status_code == 302
    assert not User.objects.filter(pk=other_user.pk).exists()
    assert vote_counts(poll) == (2, 2, 2)
    assert like_counts(poll) == (1, 1)


def test_moderators_cannot_delete_accounts(moderator_client, other_user):
    assert moderator_client.post(url("accounts_user_delete", other_user.pk), {"post": "yes"}).status_code == 403

    assert User.objects.filter(pk=other_user.pk).exists()


def test_moderators_delete_polls_with_everything_on_them(moderator_client, poll):
    response = moderator_client.post(url("polls_poll_delete", poll.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Poll.objects.filter(pk=poll.pk).exists()
    for model in [Option, Ballot, Vote, Like, Report]:
        assert not model.objects.exists(), model.__name__
    assert not Notification.objects.filter(poll_id=poll.pk).exists()


# --- actions and forms ---------------------------------------------------------------------------------


def test_deactivate_and_activate_polls(staff_client, poll, owner):
    second = PollFactory(author=owner)

    post_action(staff_client, "polls_poll", "deactivate", [poll, second])
    assert list(Poll.objects.values_list("is_active", flat=True)) == [False, False]

    post_action(staff_client, "polls_poll", "activate", [poll])
    poll.refresh_from_db()
    second.refresh_from_db()
    assert (poll.is_active, second.is_active) == (True, False)


@pytest.mark.parametrize(
    ("action", "status"), [("resolve", Report.Status.RESOLVED), ("dismiss", Report.Status.DISMISSED)]
)
def test_moderators_handle_reports(moderator_client, moderator, poll, action, status):
    report = Report.objects.get()

    post_action(moderator_client, "polls_report", action, [report])

    report.refresh_from_db()
    assert (report.status, report.handled_by) == (status, moderator)
    assert report.handled_at is not None


def test_handled_reports_keep_their_outcome(moderator_client, moderator, superuser, poll):
    report = Report.objects.get()
    services.handle_reports(reports=Report.objects.all(), moderator=superuser, status=Report.Status.DISMISSED)

    post_action(moderator_client, "polls_report", "resolve", [report])

    report.refresh_from_db()
    assert (report.status, report.handled_by) == (Report.Status.DISMISSED, superuser)


def test_moderators_cannot_change_a_reports_status_through_the_form(moderator_client, poll):
    report = Report.objects.get()

    moderator_client.post(url("polls_report_change", report.pk), {"status": "resolved", "_save": "Save"})

    report.refresh_from_db()
    assert (report.status, report.handled_by) == (Report.Status.OPEN, None)


def test_deactivating_users_spares_the_moderator_doing_it_and_staff(moderator_client, moderator, other_user, superuser):
    other_staff = UserFactory(username="other-staff", is_staff=True)

    post_action(moderator_client, "accounts_user", "deactivate", [other_user, moderator, superuser, other_staff])

    assert list(User.objects.filter(is_active=False).values_list("username", flat=True)) == [other_user.username]


def test_superusers_may_deactivate_staff(client, superuser, moderator):
    client.force_login(superuser)

    post_action(client, "accounts_user", "deactivate", [moderator, superuser])

    assert list(User.objects.filter(is_active=False).values_list("username", flat=True)) == [moderator.username]


@pytest.fixture(params=["superuser", "other_staff"])
def powerful_account(request, superuser):
    if request.param == "superuser":
        return superuser
    return UserFactory(username="other-staff", is_staff=True)


def test_moderators_see_staff_accounts_read_only(moderator_client, powerful_account):
    page = moderator_client.get(url("accounts_user_change", powerful_account.pk))

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    # Every field shown as text; only the password's hash is a (disabled) field.
    assert all(field.disabled for field in page.context["adminform"].form.fields.values())


def test_moderators_cannot_rename_or_deactivate_staff_through_the_form(moderator_client, powerful_account):
    username = powerful_account.username
    change_url = url("accounts_user_change", powerful_account.pk)
    data = {
        "username": "hijacked",
        "email": powerful_account.email,
        "display_name": "Hijacked",
        "_save": "Save",
    }  # is_active left out: unticked

    response = moderator_client.post(change_url, data)

    assert response.status_code == 403
    powerful_account.refresh_from_db()
    assert (powerful_account.username, powerful_account.display_name, powerful_account.is_active) == (
        username,
        "",
        True,
    )


def test_moderators_cannot_delete_staff(moderator_client, powerful_account):
    assert moderator_client.post(url("accounts_user_delete", powerful_account.pk), {"post": "yes"}).status_code == 403
    post_action(moderator_client, "accounts_user", "delete_selected", [powerful_account], post="yes")

    assert User.objects.filter(pk=powerful_account.pk).exists()


@pytest.mark.parametrize(("editor", "account"), [("moderator", "other_user"), ("superuser", "moderator")])
def test_accounts_are_changed_through_the_form_by_those_above_them(request, client, editor, account):
    """Moderators change accounts without powers; superusers change staff too."""
    client.force_login(request.getfixturevalue(editor))
    account = request.getfixturevalue(account)
    change_url = url("accounts_user_change", account.pk)
    data = change_form_data(client, change_url, display_name="Renamed", is_active=False)

    assert client.post(change_url, data).status_code == 302

    account.refresh_from_db()
    assert (account.display_name, account.is_active) == ("Renamed", False)


def test_moderators_retitle_and_close_polls_through_the_form(staff_client, poll):
    change_url = url("polls_poll_change", poll.pk)

    data = change_form_data(staff_client, change_url, title="Colours", is_active=False)

    response = staff_client.post(change_url, data)

    assert response.status_code == 302
    poll.refresh_from_db()
    assert (poll.title, poll.is_active) == ("Colours", False)
    assert vote_counts(poll) == (4, 4, 4)
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


def test_moderators_edit_profiles_but_cannot_hand_out_powers(moderator_client, other_user):
    change_url = url("accounts_user_change", other_user.pk)
    data = change_form_data(moderator_client, change_url, display_name="The Mod", is_superuser=True, is_staff=True)

    response = moderator_client.post(change_url, data | {"user_permissions": ["1"]})

    assert response.status_code == 302
    other_user.refresh_from_db()
    assert other_user.display_name == "The Mod"
    assert not (other_user.is_superuser or other_user.is_staff)
    assert not other_user.user_permissions.exists()


def test_only_superusers_set_passwords(client, moderator_client, superuser, other_user):
    new_password = "Taken-over-9876"
    form = {"password1": new_password, "password2": new_password, "usable_password": "true"}

    assert moderator_client.post(url("auth_user_password_change", superuser.pk), form).status_code == 403
    superuser.refresh_from_db()
    assert not superuser.check_password(new_password)

    client.force_login(superuser)
    assert client.post(url("auth_user_password_change", other_user.pk), form).status_code == 302
    other_user.refresh_from_db()
    assert other_user.check_password(new_password)
