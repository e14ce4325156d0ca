"""Which language a page speaks: the account's, else the language cookie, else Accept-Language, else English."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


class AccountLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (cookie, then Accept-Language), with a signed-in account's choice first."""

    def process_request(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if not language:
            return super().process_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None


def language_of_scope(scope) -> str:
    """The same choice for a WebSocket (its handshake's user, cookie and Accept-Language), so live
    fragments arrive in the language of the page that opened the socket."""
    user = scope.get("user")
    if user is not None and user.is_authenticated and getattr(user, "language", ""):
        return user.language
    headers = dict(scope.get("headers") or [])
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME, "")]
    candidates += [code for code, _ in parse_accept_lang_header(headers.get(b"accept-language", b"").decode("latin-1"))]
    for candidate in candidates:
        if not candidate or candidate == "*":
            continue
        try:
            return translation.get_supported_language_variant(candidate)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
