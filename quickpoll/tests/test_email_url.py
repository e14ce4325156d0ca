"""EMAIL_URL: where mail goes, in one variable (quickpoll.env.env_email_url)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from quickpoll.env import env_email_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mailer:p%40ss%2Fword@smtp.example.com:587",
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "mailer",
             "EMAIL_HOST_PASSWORD": "p@ss/word", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False},
        ),
        ("smtp://relay.internal", {"EMAIL_HOST": "relay.internal", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}),
        ("smtp://relay.internal:2525?tls=true&timeout=10", {"EMAIL_PORT": 2525, "EMAIL_USE_TLS": True, "EMAIL_TIMEOUT": 10}),
        ("smtps://u:p@smtp.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
    ],
)
def test_smtp_urls(monkeypatch, url, expected):
    monkeypatch.setenv("EMAIL_URL", url)

    email = env_email_url("EMAIL_URL")

    assert email["EMAIL_BACKEND"] == SMTP
    assert {key: email[key] for key in expected} == expected


def test_other_backends(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "file:///var/mail/quickpoll")
    assert env_email_url("EMAIL_URL") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/var/mail/quickpoll",
    }
    monkeypatch.setenv("EMAIL_URL", "console://")
    assert env_email_url("EMAIL_URL") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_unset_leaves_the_other_variables_in_charge(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    assert env_email_url("EMAIL_URL") is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://smtp.example.com", "must be a URL starting with"),
        ("smtp://", "needs a host"),
        ("smtp://smtp.example.com:port", "invalid port"),
        ("file://", "needs a directory"),
        ("smtp://smtp.example.com?timeout=soon", "timeout"),
    ],
)
def test_a_malformed_url_names_the_variable(monkeypatch, url, says):
    monkeypatch.setenv("EMAIL_URL", url)

    with pytest.raises(ImproperlyConfigured, match=says) as refusal:
        env_email_url("EMAIL_URL")

    assert "EMAIL_URL" in str(refusal.value)
