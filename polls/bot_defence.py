"""Bot defence for anonymous ballots: when a poll asks for a solved proof-of-work challenge, and checking it.

The challenge is ALTCHA's (PoW v2, PBKDF2/SHA-256), made and verified here with an HMAC key
(ALTCHA_HMAC_KEY); no third party is asked and nothing about the voter is kept. A poll's
`bot_protection` says when a ballot needs one:

- `off`: never;
- `always`: every anonymous ballot;
- `adaptive` (the default): only once, within BOT_DEFENCE_WINDOW seconds, the voter's address has cast
  more than BOT_DEFENCE_ADDRESS_THRESHOLD anonymous ballots (on any poll) or the poll has taken more
  than BOT_DEFENCE_POLL_THRESHOLD, so ordinary voters never meet it, while a lecture hall behind one
  address or a script keeps voting at the price of some CPU per ballot.

Only anonymous ballots are asked, on polls that take them: an account is one voter already (sign-up,
one ballot per account, its own rate budget); what a challenge prices is what costs an anonymous
script nothing, a fresh anon_id per ballot. A challenge is bound to its poll, expires after
ALTCHA_EXPIRY seconds, and is accepted once. A solution sent when none is required is checked all
the same. If the cache is unreachable the check fails open (as quickpoll.ratelimits does): a Redis
restart must not stop voting.
"""

import hashlib
import logging
import secrets
import time

import altcha
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from polls import errors
from polls.models import Poll
from polls.voters import Voter
from quickpoll.cache import count_in_window
from quickpoll.ratelimits import client_network

logger = logging.getLogger(__name__)

ALGORITHM = "PBKDF2/SHA-256"
HEADER = "X-Altcha"  # where API clients send the solution (or the body field `altcha`, as the page's widget does)
FIELD = "altcha"
_MAX_PAYLOAD = 4096  # a genuine payload is about 700 characters


def asks_anonymous_voters(poll: Poll) -> bool:
    """Whether this poll ever asks anonymous voters for a challenge (it takes them, and protection is on)."""
    return poll.allow_anonymous and poll.bot_protection != Poll.BotProtection.OFF


def challenge_url(poll: Poll) -> str:
    return reverse("poll-challenge", kwargs={"pk": poll.pk})


def _key_secret() -> str:
    # Signs the derived key inside each challenge, so checking a solution is one HMAC, not a PBKDF2 run.
    return hashlib.sha256(f"altcha-key:{settings.ALTCHA_HMAC_KEY}".encode()).hexdigest()


def new_challenge(poll: Poll) -> dict:
    """A fresh challenge for one of this poll's ballots, as the ALTCHA widget and solvers read it."""
    challenge = altcha.create_challenge(
        algorithm=ALGORITHM,
        cost=settings.ALTCHA_COST,
        # Deterministic mode: the client must find this counter, so ALTCHA_MAX_NUMBER bounds its work.
        counter=secrets.randbelow(settings.ALTCHA_MAX_NUMBER + 1),
        expires_at=int(time.time()) + settings.ALTCHA_EXPIRY,
        data={"poll": str(poll.pk)},
        hmac_secret=settings.ALTCHA_HMAC_KEY,
        hmac_key_secret=_key_secret(),
    )
    return challenge.to_dict()


def _traffic_keys(poll: Poll, address: str | None) -> list[str]:
    # Fixed windows: the window's number is in the key, so a counter never needs resetting.
    window = int(time.time()) // settings.BOT_DEFENCE_WINDOW
    keys = [f"botdefence:poll:{poll.pk}:{window}"]
    if address:
        keys.append(f"botdefence:address:{client_network(address)}:{window}")
    return keys


def _over(counts: list[int], *, share: float = 1.0) -> bool:
    """Whether the poll's count (first) or the address's (second) is past `share` of its threshold."""
    thresholds = [settings.BOT_DEFENCE_POLL_THRESHOLD, settings.BOT_DEFENCE_ADDRESS_THRESHOLD]
    return any(count > threshold * share for count, threshold in zip(counts, thresholds))


def challenge_due(*, poll: Poll, user, address: str | None) -> bool:
    """For the vote form: whether a challenge is required, or soon will be (half a threshold), so the page brings the widget.

    One cache read (get_many); the page's answer is advice, the ballot's check is the rule.
    """
    if (user is not None and user.is_authenticated) or not asks_anonymous_voters(poll):
        return False
    if poll.bot_protection == Poll.BotProtection.ALWAYS:
        return True
    keys = _traffic_keys(poll, address)
    try:
        found = cache.get_many(keys)
    except Exception:
        logger.warning("bot defence counters unreadable; the page leaves the challenge out", exc_info=True)
        return False
    return _over([int(found.get(key) or 0) for key in keys], share=0.5)


def _unusual_traffic(poll: Poll, voter: Voter) -> bool:
    """Count this anonymous ballot for its poll and its address (one cache round trip) and say if either is past its threshold."""
    try:
        counts = count_in_window(cache, _traffic_keys(poll, voter.ip_address), window=settings.BOT_DEFENCE_WINDOW)
    except Exception:
        logger.warning("bot defence counters unreachable; ballot taken without a challenge", exc_info=True)
        return False
    return _over(counts)


def check_ballot(*, poll: Poll, voter: Voter, solution: str = "") -> None:
    """Let an anonymous ballot through, or raise ChallengeRequired, ChallengeInvalid or ChallengeUsed.

    Called by polls.services.cast_vote once the ballot is otherwise valid, for the API, the page and
    anything else that votes.
    """
    if not voter.is_anonymous or not asks_anonymous_voters(poll):
        return
    required = poll.bot_protection == Poll.BotProtection.ALWAYS or _unusual_traffic(poll, voter)
    if not solution:
        if required:
            raise errors.ChallengeRequired(challenge_url(poll))
        return
    _spend(poll, solution)


def _spend(poll: Poll, solution: str) -> None:
    """Verify a solution for this poll and mark its challenge used, once and for all."""
    if len(solution) > _MAX_PAYLOAD:
        raise errors.ChallengeInvalid()
    try:
        payload = altcha.Payload.from_base64(solution)
        result = altcha.verify_solution(payload, settings.ALTCHA_HMAC_KEY, hmac_key_secret=_key_secret())
        parameters = payload.challenge.parameters
        verified = result.verified and isinstance(parameters.data, dict) and parameters.data.get("poll") == str(poll.pk)
    except Exception:  # anything a forged payload can make the decoder raise (base64, JSON, types)
        verified = False
    if not verified:
        raise errors.ChallengeInvalid()
    ttl = max(int(parameters.expires_at) - int(time.time()), 1)
    try:
        # add() is atomic (SET NX on Redis): of two requests racing with one solution, one wins.
        fresh = cache.add(f"botdefence:spent:{payload.challenge.signature}", 1, timeout=ttl)
    except Exception:
        logger.warning("bot defence could not record a spent challenge; accepted once more", exc_info=True)
        return
    if not fresh:
        raise errors.ChallengeUsed()
