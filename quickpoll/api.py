"""What every API viewset shares: the id in its URLs, its documented errors, the anonymous voter's header."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from quickpoll.api_errors import ErrorSerializer

# Ids in paths: UUIDs with or without their dashes, in either case.
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

# An anonymous visitor's id: issued by the server in a cookie, or chosen by an API client.
ANON_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
ANON_COOKIE = "quickpoll_anon"

_ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=codes)
    for code, codes in {
        400: "invalid (malformed JSON, wrong types, a rule broken; `fields` says where), invalid_option, "
        "too_many_options, invalid_anon_id, wrong_password, challenge_invalid, invalid_endpoint",
        401: "login_required, authentication_failed, invalid_credentials",
        403: "poll_closed, not_owner, not_editable, results_hidden, ballot_voided, invite_required, invite_invalid, "
        "invite_revoked, forbidden",
        404: "not_found",
        409: "already_voted, already_liked, already_reported, options_locked, invite_used, moderation_hold, "
        "already_held, not_held, challenge_used, secret_ballot_final, secret_ballot_locked, secret_poll_closed, username_taken, confusable_username, "
        "confusable_display_name (these three with `fields`), email_taken, endpoint_limit_reached, already_pending",
        428: "challenge_required: solve the challenge at the URL in X-Altcha-Challenge and send it again",
        429: "rate_limited (with Retry-After), anonymous_limit",
        501: "format_not_supported (oEmbed: only json)",
    }.items()
}


def errors_for(*codes: int) -> dict:
    """The error answers an operation documents, by HTTP status."""
    return {code: _ERRORS[code] for code in codes}


# Read wherever the requester's votes and likes matter; a malformed one is a 400 invalid_anon_id.
ANON_ID = OpenApiParameter(
    "X-Anon-Id",
    str,
    OpenApiParameter.HEADER,
    pattern=ANON_ID_PATTERN,
    description="Who an anonymous visitor is (ignored with a token): the anon_id the server issued, or your own.",
)
