"""Which language a page speaks: the account's, then the cookie the footer's picker sets, then Accept-Language."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.notifications import notify
from accounts.tests.factories import UserFactory
from polls import services
from polls.tests.factories import PollFactory, pick
from quickpoll.tests.pages import signed_in, text

pytestmark = pytest.mark.django_db


def test_accept_language_german_gets_german():
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    page = text(response)
    main = page[page.index("<main") : page.index("</main>")]
    assert '<html lang="de">' in page
    assert "Umfrage erstellen" in main and "Create a poll" not in main
    assert response["Content-Language"] == "de"


def test_accept_language_spanish_gets_spanish():
    page = text(Client().get("/polls/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.8"))
    assert '<html lang="es">' in page
    assert "Explorar encuestas" in page


def test_a_language_we_do_not_speak_gets_english():
    page = text(Client().get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"))
    assert '<html lang="en">' in page and "Create a poll" in page


def test_the_accounts_language_wins_over_the_browsers():
    user = UserFactory(language="es")
    page = text(signed_in(user).get("/", HTTP_ACCEPT_LANGUAGE="de"))
    assert '<html lang="es">' in page and "Crear una encuesta" in page


def test_the_footer_picker_works_without_script_and_sets_a_cookie():
    client = Client()
    response = client.post("/accounts/language/", {"language": "de", "return_to": "/polls/"})
    assert response.status_code == 302 and response["Location"] == "/polls/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert '<html lang="de">' in text(client.get("/polls/", HTTP_ACCEPT_LANGUAGE="es"))


def test_the_footer_picker_saves_to_the_account():
    user = UserFactory()
    client = signed_in(user)
    client.post("/accounts/language/", {"language": "es", "return_to": "/"})
    user.refresh_from_db()
    assert user.language == "es"
    # Another device, another browser language: the account's choice follows the person.
    assert '<html lang="es">' in text(signed_in(user).get("/", HTTP_ACCEPT_LANGUAGE="de"))


def test_the_picker_never_sends_anyone_off_site():
    response = Client().post("/accounts/language/", {"language": "de", "return_to": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_picker_refuses_a_language_we_do_not_offer():
    user = UserFactory()
    signed_in(user).post("/accounts/language/", {"language": "fr", "return_to": "/"})
    user.refresh_from_db()
    assert user.language == ""


def test_the_footer_lists_each_language_in_itself():
    page = text(Client().get("/"))
    assert 'action="/accounts/language/"' in page
    for name in ("English", "Deutsch", "Español"):
        assert name in page


def test_codes_and_field_names_stay_english_while_details_are_translated(client_for, owner):
    poll = PollFactory(author=owner)
    services.set_poll_active(poll=poll, actor=owner, active=False)
    response = client_for(owner).post(
        "/api/votes", {"poll_id": str(poll.pk), "option_ids": pick(poll, "Red")}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.json() == {"code": "poll_closed", "detail": "Esta encuesta está cerrada."}
    response = client_for(owner).post("/api/polls", {"title": ""}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    body = response.json()
    assert body["code"] == "invalid" and body["detail"] == "Einige Felder sind ungültig."
    assert "title" in body["fields"]


def test_a_notification_is_written_in_its_recipients_language():
    author, voter = UserFactory(language="de"), UserFactory()
    poll = PollFactory(author=author, title="Mittag")
    notice = notify(recipient=author, kind="vote", poll=poll, actor=voter)
    assert notice.payload["message"] == f"{voter.public_name} hat bei „Mittag“ abgestimmt."


def test_the_page_script_gets_its_strings_from_a_same_origin_catalogue():
    page = text(Client().get("/", HTTP_ACCEPT_LANGUAGE="de"))
    assert '<script src="/jsi18n/" defer></script>' in page
    catalogue = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Link kopiert" in catalogue
    # English is what the script is written in: English pages load no catalogue.
    assert "/jsi18n/" not in text(Client().get("/", HTTP_ACCEPT_LANGUAGE="en"))


def test_numbers_and_dates_follow_the_language():
    poll = PollFactory(title="Zahlen")
    page = text(Client().get(f"/u/{poll.author.username}/", HTTP_ACCEPT_LANGUAGE="de"))
    assert "dabei seit" in page


def test_the_clocks_digest_is_written_in_its_recipients_language(django_capture_on_commit_callbacks):
    from django.core import mail

    from polls.mails import send_weekly_digests
    from polls.voters import Voter

    author = UserFactory(language="es", email_weekly_digest=True)
    poll = PollFactory(author=author, title="Almuerzo")
    services.cast_vote(poll=poll, voter=Voter(user=UserFactory()), option_ids=pick(poll, "Red"))

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digests() == 1  # no request: nothing but the account says which language

    [message] = mail.outbox
    assert message.subject == "Tu semana en QuickPoll"
    assert "Almuerzo" in message.body and "week" not in message.body.lower()


def test_an_account_mail_follows_the_account_not_the_request(django_capture_on_commit_callbacks):
    from django.core import mail

    UserFactory(language="de", email="reader@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/users/password-reset", {"email": "reader@example.com"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 202

    [message] = mail.outbox
    assert message.subject == "Setze dein QuickPoll-Passwort zurück"
    html, _mimetype = message.alternatives[0]
    assert '<html lang="de">' in html
