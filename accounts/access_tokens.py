"""The access-token check every API call by an account makes: simplejwt's, with the account read through a
prepared query (quickpoll.prepared), since that read is the call's costliest part after the vote itself.

The checks are simplejwt's, on the row as it is now: an unknown or inactive account is refused, and so is
a token whose password fingerprint no longer matches (CHECK_REVOKE_TOKEN: a password change ends it).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from quickpoll.prepared import PreparedQuery

_ACCOUNT = PreparedQuery(lambda pk: User.objects.filter(pk=pk), User._meta.pk)


class AccessTokenAuthentication(JWTAuthentication):
    def get_user(self, validated_token) -> User:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        try:
            user = _ACCOUNT.first(user_id)
        except ValidationError:  # not an id at all
            user = None
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
            user.password
        ):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class AccessTokenScheme(SimpleJWTScheme):
    """The OpenAPI document describes it as simplejwt's bearer token, which it is."""

    target_class = AccessTokenAuthentication
