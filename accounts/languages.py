"""Which language a page speaks: the account's, else the language cookie, else Accept-Language, else English."""

from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
