"""QuickPoll's admin site: its login spends the same budgets as the API's and the pages' logins, asks for the
two-factor code like them, and (REQUIRE_TWO_FACTOR_FOR_STAFF) lets no staff account without two-factor in."""

from functools import update_wrapper

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from accounts.forms import too_many_attempts
from accounts.two_factor import two_factor_enabled
from accounts.views import ask_for_code
from quickpoll.errors import RateLimited
from quickpoll.ratelimits import spend_auth_budget


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login: the address's budget here, the account's in accounts.backends."""

    refusal: RateLimited | None = None

    def clean(self):
        try:
            spend_auth_budget(self.request)
            return super().clean()
        except RateLimited as refusal:
            self.refusal = refusal
            raise ValidationError(too_many_attempts(refusal), code="rate_limited") from None


class QuickPollAdminSite(AdminSite):
    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and two_factor_enabled(request.user):
            # The password was right; as on the login page, nobody is signed in until the code comes.
            user = request.user
            logout(request)
            return ask_for_code(request, user, request.POST.get("next") or reverse("admin:index"))
        form = (getattr(response, "context_data", None) or {}).get("form")
        refusal = getattr(form, "refusal", None)
        if refusal is not None:
            response.status_code = refusal.status
            for name, value in refusal.headers.items():
                response.headers[name] = value
        return response

    def admin_view(self, view, cacheable=False):
        guarded_view = super().admin_view(view, cacheable)
        if view == self.logout:
            return guarded_view

        def inner(request, *args, **kwargs):
            user = request.user
            if settings.REQUIRE_TWO_FACTOR_FOR_STAFF and user.is_active and user.is_staff and not two_factor_enabled(user):
                messages.warning(request, gettext("Turn on two-factor authentication to use the moderation pages."))
                return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
            return guarded_view(request, *args, **kwargs)

        return update_wrapper(inner, view)
