"""Every mail QuickPoll sends about an account: plain text plus simple HTML, from templates/mail/.

A mail is `templates/mail/<name>.subject.txt`, `<name>.txt` and `<name>.html`, rendered with the site's
name, its address (SITE_URL: the clock has no request to take it from) and a link to the notification
settings. Notification mails (NOTIFICATION_KINDS) go only to accounts that opted in to their kind, and
carry a one-click unsubscribe link. Mails leave once the transaction that asked for them commits; one
that fails is logged and stops nothing else.
"""

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.models import User
from quickpoll.time_zones import known_zone

logger = structlog.get_logger(__name__)

# Each kind of notification mail and the User field that says whether its account wants it.
NOTIFICATION_KINDS = {
    "poll_closed": "email_poll_closed",
    "report_handled": "email_report_handled",
    "weekly_digest": "email_weekly_digest",
}
NOTIFICATION_LABELS = {
    "poll_closed": _("A poll of mine closed, with its final results"),
    "report_handled": _("Moderators handled a report on a poll of mine"),
    "weekly_digest": _("A weekly digest of the votes and likes on my polls"),
}


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _compose(*, user: User, to: str, name: str, context: dict, unsubscribe_url: str = "") -> EmailMultiAlternatives:
    """Written in the recipient's language and time zone, not the request's: the clock sends digests with no
    request, and a moderator's action mails an author who may read another language."""
    zone = known_zone(user.time_zone) if user.time_zone else None
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone or timezone.get_default_timezone()):
        return _render(to=to, name=name, context=context, unsubscribe_url=unsubscribe_url)


def _render(*, to: str, name: str, context: dict, unsubscribe_url: str) -> EmailMultiAlternatives:
    context = {
        "APP_NAME": settings.APP_NAME,
        "site_url": settings.SITE_URL,
        "settings_url": absolute_url(reverse("account-settings") + "#email-heading"),
        "unsubscribe_url": unsubscribe_url,
        **context,
    }
    subject = " ".join(render_to_string(f"mail/{name}.subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"mail/{name}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"mail/{name}.html", context), "text/html")
    if unsubscribe_url:
        # RFC 8058: mail clients offer their own "unsubscribe" button, which POSTs to this address.
        message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def _send_on_commit(message: EmailMultiAlternatives, name: str) -> None:
    def deliver():
        try:
            message.send()
        except Exception:
            logger.warning("mail_failed", mail=name, exc_info=True)

    transaction.on_commit(deliver)


def send_account_mail(*, user: User, to: str, name: str, context: dict) -> None:
    """A mail the account asked for or must have (reset, confirmation, a change of address): never opt-out.
    `to` may differ from user.email (a new address to confirm, the old one told of a change)."""
    _send_on_commit(_compose(user=user, to=to, name=name, context=context), name)


def wants(user: User, kind: str) -> bool:
    return user.is_active and bool(user.email) and getattr(user, NOTIFICATION_KINDS[kind])


def send_notification_mail(*, user: User, kind: str, context: dict) -> bool:
    """A notification mail of `kind` (templates/mail/<kind>), if the account opted in; True when one is sent."""
    if not wants(user, kind):
        return False
    token = tokens.make_token(user, tokens.Purpose.UNSUBSCRIBE, kind=kind)
    unsubscribe_url = absolute_url(reverse("unsubscribe", args=[token]))
    context = {"user": user, "kind_label": NOTIFICATION_LABELS[kind], **context}
    _send_on_commit(_compose(user=user, to=user.email, name=kind, context=context, unsubscribe_url=unsubscribe_url), kind)
    return True
