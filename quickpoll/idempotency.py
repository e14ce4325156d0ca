"""Safe retries: an API write sent again with the same Idempotency-Key is answered, not done twice.

`@idempotent` on a DRF view method (above its @extend_schema) is the one way to make a write
retryable. Without the header the view runs as it always did, with no query added. With it:

- the first request claims (caller, key) by inserting a record; the unique constraint referees
  two requests racing with one key, so exactly one of them runs the view;
- a success (2xx) is kept for IDEMPOTENCY_TTL_HOURS and replayed, status and body, to every retry
  with the same method, path and body, with `Idempotent-Replayed: true`;
- a refusal (4xx) or a failure (5xx) changed nothing, so it is not kept: the claim is released and a
  retry runs again, and gets the answer of its own moment (a challenge solved, a rate limit passed);
- a retry while the first request is still at work waits for it, up to IDEMPOTENCY_WAIT_SECONDS;
- the same key with another body, path or method is a 422 idempotency_key_reused.

The record is written in transactions of its own, not the view's: votes are written by whichever
request leads their batch (polls.group_commit), so there is no one transaction to share.

The table holds the key's hash, and each kept answer sealed with the key itself: only a client holding the
key reads the answer again, and a copy of the database shows no one's answers (nor a new API key's secret).
"""

import base64
import functools
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import timedelta

import structlog
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from quickpoll.api import ANON_COOKIE, ANON_ID_PATTERN
from quickpoll.errors import AnonIdRequired, IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidIdempotencyKey
from quickpoll.models import IdempotencyRecord, account_caller

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{8,255}$"  # visible ASCII: a UUID is a good key
# A claim this old belongs to a request that died (its server stopped); a retry may take it over.
ABANDONED_AFTER = timedelta(minutes=2)
# Seconds between looks at a key still in flight: soon at first (a vote takes milliseconds), then less often.
_FIRST_LOOK, _LAST_LOOK = 0.02, 0.25
logger = structlog.get_logger(__name__)
_KEY = re.compile(KEY_PATTERN)
_ANON_ID = re.compile(ANON_ID_PATTERN)

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    pattern=KEY_PATTERN,
    description="Makes this request safe to retry: send the same key (8 to 255 visible characters; a fresh UUID "
    "per operation) with the same body, and for 24 hours (by default) you get the first success back, status and body, "
    "with `Idempotent-Replayed: true`, instead of it being done twice. Another body with the key: 422 "
    "idempotency_key_reused. Anonymous voters send their X-Anon-Id with it.",
)


def idempotent(view):
    """Make a DRF view method answer retries with the same Idempotency-Key from its first success."""

    @functools.wraps(view)
    def answer(viewset, request, *args, **kwargs):
        sent = request.headers.get(HEADER)
        if sent is None:
            return view(viewset, request, *args, **kwargs)
        key = _checked(sent)
        record = _claim(caller=_caller(request), key=_hashed(key), fingerprint=_fingerprint(request))
        seal = _seal(key)
        if record.status is not None:
            logger.info("idempotent_replay", path=request.path, status=record.status)
            return _replay(record, seal)
        try:
            response = view(viewset, request, *args, **kwargs)
        except BaseException:
            _release(record)
            raise
        if 200 <= response.status_code < 300:
            _keep(record, response, seal)
        else:
            _release(record)
        return response

    return extend_schema(parameters=[IDEMPOTENCY_KEY])(answer)


def purge_expired(*, now=None) -> int:
    """Delete the records past their time (the clock does it); returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _checked(sent: str) -> str:
    # The IETF draft sends the key as a structured-field string, in double quotes; both spellings are one key.
    key = sent[1:-1] if len(sent) >= 2 and sent[0] == sent[-1] == '"' else sent
    if not _KEY.fullmatch(key):
        raise InvalidIdempotencyKey()
    return key


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _seal(key: str) -> Fernet:
    """Seals and opens the answers kept for this key: derived from the key and SECRET_KEY, stored nowhere."""
    return Fernet(base64.urlsafe_b64encode(hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).digest()))


def _caller(request) -> str:
    """Whose keys these are: the account (by whichever token or API key it signs in), else the anonymous voter."""
    if request.user.is_authenticated:
        return account_caller(request.user.pk)
    anon_id = request.headers.get("X-Anon-Id") or request.COOKIES.get(ANON_COOKIE, "")
    if not _ANON_ID.fullmatch(anon_id):
        # A voter the server would name afresh on each try could never be recognised on a retry.
        raise AnonIdRequired()
    return f"anon:{anon_id}"


def _fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a form's QueryDict
        data = dict(data.lists())
    return fingerprint(request.method, request.path, data)


def fingerprint(method: str, path: str, data) -> str:
    """What a request asks for. The parsed body, keys sorted: a retry that spaces or orders its JSON differently
    asks the same thing; so does a path with or without its trailing slash."""
    body = json.dumps(data, sort_keys=True, cls=JSONEncoder, default=str)
    return hashlib.sha256(f"{method} {path.rstrip('/')}\n{body}".encode()).hexdigest()


def _claim(*, caller: str, key: str, fingerprint: str) -> IdempotencyRecord:
    """The record to work on (its claim ours) or, with a status, the kept response to replay."""
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
    pause = _FIRST_LOOK
    while True:
        now = timezone.now()
        claim = {"claim": uuid.uuid4(), "claimed_at": now}
        fresh = {"fingerprint": fingerprint, "status": None, "body": "", "created_at": now}
        fresh["expires_at"] = now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(caller=caller, key=key, **claim, **fresh)
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if record is None:  # released or purged since the INSERT failed: claim it afresh
            continue
        if record.expires_at <= now:
            if _take_over(record, when={"expires_at__lte": now}, values={**claim, **fresh}):
                return record
            continue
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.status is not None:
            return record
        abandoned = record.claimed_at <= now - ABANDONED_AFTER
        if abandoned and _take_over(record, when={"claim": record.claim, "status__isnull": True}, values=claim):
            return record
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInFlight()
        if not transaction.get_connection().in_atomic_block:
            transaction.get_connection().close()  # back to the pool while we wait, as ballot_box's waiters do
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, _LAST_LOOK)


def _take_over(record: IdempotencyRecord, *, when: dict, values: dict) -> bool:
    """Claim a record whose time is up, or whose request died, unless another retry got there first."""
    if IdempotencyRecord.objects.filter(pk=record.pk, **when).update(**values) != 1:
        return False
    for name, value in values.items():
        setattr(record, name, value)
    return True


def _keep(record: IdempotencyRecord, response: Response, seal: Fernet) -> None:
    body = seal.encrypt(json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False).encode()).decode()
    try:
        IdempotencyRecord.objects.filter(pk=record.pk, claim=record.claim).update(
            status=response.status_code, body=body, claim=None
        )
    except DatabaseError:
        # The work is done and committed: say so. A retry meets the claim in flight until it counts as abandoned.
        logger.warning("idempotent_response_not_kept", exc_info=True, status=response.status_code)


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, claim=record.claim).delete()


def _replay(record: IdempotencyRecord, seal: Fernet) -> Response:
    body = json.loads(seal.decrypt(record.body.encode()))
    return Response(body, status=record.status, headers={REPLAYED_HEADER: "true"})
