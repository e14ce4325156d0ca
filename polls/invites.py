"""Invite links for invite-only polls: making them, revoking them, counting them, and the visitor holding one.

An invite is a random token in a link (/i/<token>). Whoever opens the link holds it (in their
session; API clients send it with their vote), and polls.permissions.require_can_take_part admits
their ballot with it. The ballot keeps the invite (Ballot.invite is unique), so one invite makes
one ballot however many voters race on it.
"""

import csv
import io
import secrets
from dataclasses import dataclass, replace
from typing import Callable, Iterable

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from accounts.models import User
from polls import errors
from polls.models import Invite, Poll
from polls.permissions import can_see_which_invites_were_used, require_manager
from polls.voters import Voter
from quickpoll.spreadsheets import safe_cell

logger = structlog.get_logger(__name__)

SESSION_KEY = "invites"  # poll id → the invite token this browser holds for it
SESSION_KEEPS = 50  # invites one browser holds at once; the oldest make room


def new_token() -> str:
    # 128 random bits: nobody finds a live invite by guessing.
    return secrets.token_urlsafe(16)


# --- Making and revoking invites (the poll's managers) -----------------------------------------


def _clean_emails(emails: Iterable[str]) -> tuple[list[str], list[str]]:
    """Addresses in their order, blanks and repeats dropped; and the ones that are not addresses."""
    cleaned, seen, bad = [], set(), []
    for raw in emails:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
            continue
        if address.casefold() not in seen:
            seen.add(address.casefold())
            cleaned.append(address)
    return cleaned, bad


def create_invites(
    *,
    poll: Poll,
    actor: User,
    count: int = 0,
    emails: Iterable[str] = (),
    label: str = "",
    link_for: Callable[[Invite], str] | None = None,
) -> list[Invite]:
    """Make `count` invites, or one per address of `emails` (mailed to it, with its link from `link_for`)."""
    require_manager(poll, actor)
    addresses, bad = _clean_emails(emails)
    label = " ".join(label.split())
    problems: dict[str, list[str]] = {}
    if bad:
        problems["emails"] = [_("Not e-mail addresses: %(addresses)s") % {"addresses": ", ".join(bad[:10]) + (" …" if len(bad) > 10 else "")}]
    wanted = len(addresses) or count
    if not problems and not wanted:
        problems["count"] = [_("Say how many invites to make, or give e-mail addresses.")]
    if wanted > settings.INVITES_PER_REQUEST:
        problems["emails" if addresses else "count"] = [
            _("At most %(count)d invites at a time.") % {"count": settings.INVITES_PER_REQUEST}
        ]
    if len(label) > 100:
        problems["label"] = [_("Labels are at most 100 characters.")]
    if problems:
        raise errors.InvalidInvites(problems)
    with transaction.atomic():
        # Locking the poll row makes the per-poll cap exact when two batches are made at once.
        Poll.objects.select_for_update().filter(pk=poll.pk).first()
        room = settings.INVITES_PER_POLL - Invite.objects.filter(poll=poll).count()
        if wanted > room:
            raise errors.InvalidInvites(
                {"count": [_("A poll has at most %(most)d invites; %(room)d more can be made.") % {"most": settings.INVITES_PER_POLL, "room": max(room, 0)}]}
            )
        invites = Invite.objects.bulk_create(
            Invite(poll=poll, token=new_token(), email=address, label=label)
            for address in (addresses or [""] * count)
        )
        if addresses:
            transaction.on_commit(lambda: _send_invitations(poll, invites, link_for))
    logger.info("invites_created", poll_id=str(poll.pk), invites=len(invites), emailed=len(addresses))
    return invites


def _send_invitations(poll: Poll, invites: list[Invite], link_for: Callable[[Invite], str] | None) -> None:
    """One mail per invite, after the invites are committed; one address that fails stops no other."""
    for invite in invites:
        link = link_for(invite) if link_for else f"/i/{invite.token}"
        try:
            send_mail(
                # In the inviter's language: the invitee has no account to say theirs.
                subject=gettext("You are invited to vote: %(title)s") % {"title": poll.title},
                message=gettext(
                    "%(author)s invites you to vote on “%(title)s”.\n\n"
                    "Your personal link (it takes one ballot, so keep it to yourself):\n%(link)s\n"
                )
                % {"author": poll.author.public_name, "title": poll.title, "link": link},
                from_email=None,
                recipient_list=[invite.email],
            )
        except Exception:
            logger.warning("invite_mail_failed", poll_id=str(poll.pk), invite_id=str(invite.pk), exc_info=True)


def revoke_invites(*, poll: Poll, actor: User, invites: QuerySet[Invite]) -> int:
    """Revoke invites of this poll: they admit no ballot from now on. Ballots already cast with one stay counted.

    Returns how many were revoked now (ones revoked before are left as they were).
    """
    require_manager(poll, actor)
    revoked = invites.filter(poll=poll, revoked_at__isnull=True).update(revoked_at=timezone.now())
    logger.info("invites_revoked", poll_id=str(poll.pk), invites=revoked)
    return revoked


def revoke_unused_invites(*, poll: Poll, actor: User) -> int:
    """Revoke the invites nobody used; every open one where the actor may not see which were used,
    since sparing the used ones would show which they are."""
    if not can_see_which_invites_were_used(actor, poll):
        return revoke_invites(poll=poll, actor=actor, invites=Invite.objects.all())
    return revoke_invites(poll=poll, actor=actor, invites=Invite.objects.filter(ballot__isnull=True))


# --- Reading them ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteCounts:
    total: int
    used: int
    revoked: int  # revoked before anyone used them
    unused: int  # still admit a ballot


def invite_counts(poll: Poll) -> InviteCounts:
    row = Invite.objects.filter(poll=poll).aggregate(
        total=Count("pk"),
        used=Count("pk", filter=Q(ballot__isnull=False)),
        revoked=Count("pk", filter=Q(ballot__isnull=True, revoked_at__isnull=False)),
    )
    return InviteCounts(**row, unused=row["total"] - row["used"] - row["revoked"])


def invites_of(poll: Poll) -> QuerySet[Invite]:
    """A poll's invites, oldest first, each knowing whether a ballot holds it (`used`)."""
    return Invite.objects.filter(poll=poll).annotate(used=Q(ballot__isnull=False)).order_by("created_at", "id")


def status_of(invite: Invite, *, show_use: bool) -> str:
    """unused, used or revoked; without `show_use` a used invite reads as unused or revoked."""
    if show_use and invite.used:
        return "used"
    return "revoked" if invite.is_revoked else "unused"


def printable_invites(poll: Poll, *, show_use: bool) -> QuerySet[Invite]:
    """What a sheet of QR codes prints: the invites that still admit a ballot; without `show_use` every
    unrevoked one, since leaving the used ones out would show which they are."""
    printable = invites_of(poll).filter(revoked_at__isnull=True)
    return printable.filter(ballot__isnull=True) if show_use else printable


def link_maker(request) -> Callable[[Invite], str]:
    """Absolute links of invites, as this request reached the server."""
    return lambda invite: request.build_absolute_uri(reverse("invite-redeem", kwargs={"token": invite.token}))


def csv_response(request, poll: Poll) -> HttpResponse:
    """The CSV file of a poll's invites, for the API and the invites page alike."""
    show_use = can_see_which_invites_were_used(request.user, poll)
    response = HttpResponse(invites_csv(poll, link_for=link_maker(request), show_use=show_use), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{poll.slug}-invites.csv"'
    return response


def invites_csv(poll: Poll, *, link_for: Callable[[Invite], str], show_use: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["link", "email", "label", "status", "created_at"])
    for invite in invites_of(poll):
        status = status_of(invite, show_use=show_use)
        writer.writerow(
            [link_for(invite), safe_cell(invite.email), safe_cell(invite.label), status, invite.created_at.isoformat()]
        )
    return buffer.getvalue()


# --- The visitor holding one ----------------------------------------------------------------------


def find_invite(token: str) -> Invite | None:
    """The invite a link names (any poll's), or None."""
    if not token or len(token) > 64:
        return None
    return Invite.objects.select_related("poll").filter(token=token).first()


def hold(request, invite: Invite) -> None:
    """This browser now presents the invite whenever it takes part in the invite's poll."""
    held = dict(request.session.get(SESSION_KEY, {}))
    held.pop(str(invite.poll_id), None)
    held[str(invite.poll_id)] = invite.token
    request.session[SESSION_KEY] = dict(list(held.items())[-SESSION_KEEPS:])


def held_for(request, poll: Poll) -> str:
    """The invite token this browser holds for the poll ("" if none)."""
    return request.session.get(SESSION_KEY, {}).get(str(poll.pk), "")


def presenting(voter: Voter | None, token: str) -> Voter | None:
    """The voter, presenting this invite token (when one is given)."""
    if voter is None or not token:
        return voter
    return replace(voter, invite=token)
