"""QuickPoll's admin site: its login spends the same budgets as the API's and the pages' logins."""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts.forms import too_many_attempts
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
        form = (getattr(response, "context_data", None) or {}).get("form")
        refusal = getattr(form, "refusal", None)
        if refusal is not None:
            response.status_code = refusal.status
            for name, value in refusal.headers.items():
                response.headers[name] = value
        return response
