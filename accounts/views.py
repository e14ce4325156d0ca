"""Account pages: register, log in and out, settings, notifications. Same services as the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import api_keys, errors, services, tokens, two_factor
from accounts.backends import login_account_key
from accounts.forms import (
    ApiKeyForm,
    DeleteAccountForm,
    EmailPreferencesForm,
    LoginForm,
    NewPasswordForm,
    PasswordForm,
    PasswordResetRequestForm,
    ProfileForm,
    RecoveryCodesForm,
    RegisterForm,
    TwoFactorCodeForm,
    TwoFactorDisableForm,
    TwoFactorSetupForm,
    too_many_attempts,
)
from accounts.mail import NOTIFICATION_LABELS
from accounts.models import ApiKey, Notification
from accounts.notifications import mark_notifications_read
from accounts.personal_data import export_personal_data
from quickpoll.errors import RateLimited
from quickpoll.ratelimits import (
    spend_auth_budget,
    spend_export_budget,
    spend_login_budget,
)


def _next_url(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_http_methods(["GET", "POST"])
def register(request):
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            spend_auth_budget(request)
            user = services.register_user(
                username=data["username"], email=data["email"], password=data["password"], time_zone=data["time_zone"]
            )
        except RateLimited as exc:
            form.add_error(None, too_many_attempts(exc))
        except errors.InvalidAccount as exc:
            form.add_service_errors(exc.fields)
        except errors.NameRefused as exc:
            form.add_error(exc.field, exc.message)
        except errors.EmailTaken as exc:
            form.add_error("email", exc.message)
        else:
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            messages.success(request, gettext("Welcome to %(site)s, %(name)s!") % {"site": settings.APP_NAME, "name": user.username})
            messages.info(request, gettext("We mailed a link to %(address)s: follow it to confirm your address.") % {"address": user.email})
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/register.html", {"form": form, "next": _next_url(request, "")}, status=status)


@require_http_methods(["GET", "POST"])
def log_in(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_auth_budget(request)
            user = services.log_in(request=request, **form.cleaned_data)
        except RateLimited as exc:
            form.add_error(None, too_many_attempts(exc))
        except errors.InvalidCredentials as exc:
            form.add_error(None, exc.message)
        else:
            if two_factor.two_factor_enabled(user):
                return ask_for_code(request, user, _next_url(request, ""))
            login(request, user)
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request, "")}, status=status)


@require_POST
def log_out(request):
    logout(request)
    messages.success(request, gettext("You are logged out."))
    return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    user = request.user
    initial = ProfileForm.initial_for(user)
    profile_form = ProfileForm(initial=initial, prefix="profile")
    password_form = PasswordForm(prefix="password")
    delete_form = DeleteAccountForm(prefix="delete")
    api_key_form = ApiKeyForm(prefix="apikey")
    new_api_key = new_api_secret = None
    mails_form = EmailPreferencesForm(user=user, prefix="mails")
    if request.method == "POST" and "profile-email" in request.POST:
        profile_form = ProfileForm(request.POST, request.FILES, initial=initial, prefix="profile")
        if profile_form.is_valid():
            changes = {name: profile_form.cleaned_data[name] for name in profile_form.changed_data}
            try:
                services.update_profile(user=user, **changes)
            except errors.EmailTaken as exc:
                profile_form.add_error("email", exc.message)
            except errors.NameRefused as exc:
                profile_form.add_error(exc.field, exc.message)
            else:
                messages.success(request, gettext("Profile saved."))
                if "email" in changes and user.pending_email:
                    messages.info(request, gettext("We sent a link to %(address)s: your address changes once you follow it.") % {"address": user.pending_email})
                return redirect("account-settings")
    elif request.method == "POST" and "delete-password" in request.POST:
        delete_form = DeleteAccountForm(request.POST, prefix="delete")
        if delete_form.is_valid():
            try:
                spend_login_budget(request, login_account_key(user.username, user))
                services.delete_own_account(user=user, **delete_form.cleaned_data)
            except RateLimited as exc:
                delete_form.add_error(None, too_many_attempts(exc))
            except errors.WrongPassword as exc:
                delete_form.add_error("password", exc.message)
            else:
                logout(request)
                messages.success(request, gettext("Your account and its data are deleted."))
                return redirect("home")
    elif request.method == "POST" and "apikey-name" in request.POST:
        api_key_form = ApiKeyForm(request.POST, prefix="apikey")
        if api_key_form.is_valid():
            data = api_key_form.cleaned_data
            try:
                new_api_key, new_api_secret = api_keys.create_api_key(
                    user=user, name=data["name"], scopes=data["scopes"], expires_at=api_key_form.expires_at()
                )
            except errors.TooManyApiKeys as exc:
                api_key_form.add_error(None, exc.message)
            except errors.InvalidAccount as exc:
                for field, problems in exc.fields.items():
                    api_key_form.add_error(field if field in api_key_form.fields else None, problems)
            else:
                # Shown in this answer only, never stored: no redirect, which would need it kept somewhere.
                api_key_form = ApiKeyForm(prefix="apikey")
    elif request.method == "POST":
        password_form = PasswordForm(request.POST, prefix="password")
        if password_form.is_valid():
            try:
                services.change_password(user=user, **password_form.cleaned_data)
            except errors.WrongPassword as exc:
                password_form.add_error("current_password", exc.message)
            except errors.InvalidAccount as exc:
                password_form.add_service_errors(exc.fields)
            else:
                update_session_auth_hash(request, user)  # stay logged in on this device
                messages.success(request, gettext("Password changed."))
                return redirect("account-settings")
    forms_sent = [profile_form, password_form, delete_form, api_key_form]
    status = 400 if any(form.errors for form in forms_sent) else 200
    context = {
        "profile_form": profile_form,
        "password_form": password_form,
        "delete_form": delete_form,
        "mails_form": mails_form,
        "api_key_form": api_key_form,
        "api_keys": ApiKey.objects.filter(user=user, revoked_at__isnull=True),
        "new_api_key": new_api_key,
        "new_api_secret": new_api_secret,
        "two_factor_enabled": two_factor.two_factor_enabled(user),
    }
    response = render(request, "accounts/settings.html", context, status=status)
    if new_api_secret:
        response.headers["Cache-Control"] = "no-store"  # the page holds a secret: no copy in any cache
    return response


@login_required
@require_POST
def revoke_api_key(request, key_id):
    key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
    api_keys.revoke_api_keys(keys=ApiKey.objects.filter(pk=key.pk))
    messages.success(request, gettext("API key “%(name)s” revoked: it no longer works.") % {"name": key.name})
    return redirect(reverse("account-settings") + "#api-keys")


@login_required
@require_GET
def export_my_data(request):
    """The settings page's "Download my data": the document GET /api/users/me/export answers, as a file."""
    try:
        spend_export_budget(request, request.user)
    except RateLimited as exc:
        messages.error(request, f"You downloaded your data a moment ago. Try again in {exc.retry_after} seconds.")
        return redirect("account-settings")
    response = JsonResponse(export_personal_data(user=request.user), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="quickpoll-my-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """Seeing the page reads what it shows; what was unread stays highlighted on this one view."""
    if request.method == "POST":
        mark_notifications_read(recipient=request.user)
        return redirect("notifications")
    items = Notification.objects.filter(recipient=request.user).select_related("poll")
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    shown = list(page.object_list)  # read before marking: each keeps its unread look for this view
    mark_notifications_read(recipient=request.user, notification_ids=[item.pk for item in shown if not item.is_read])
    return render(request, "accounts/notifications.html", {"page": page, "items": shown})


@login_required
@require_GET
def open_notification(request, notification_id):
    """Follow a notice to its poll, marking it read. A plain link (GET) so it opens like any other; another
    site cannot use it, as it needs the notice's random id and marks only the signed-in owner's own."""
    notification = get_object_or_404(Notification.objects.select_related("poll"), pk=notification_id, recipient=request.user)
    mark_notifications_read(recipient=request.user, notification_ids=[notification.pk])
    if notification.poll is None:
        return redirect("notifications")
    return redirect("poll-detail", notification.poll.slug)



# --- Two-factor authentication (accounts.two_factor) ---
_CHALLENGE = "two_factor_challenge"  # session key: the password was right, the code is awaited
_SETUP_SECRET = "two_factor_setup_secret"  # session key: the secret the set-up page's QR code shows


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def ask_for_code(request, user, next_url: str):
    """After a right password on an account with two-factor: nobody is signed in until the code comes."""
    request.session[_CHALLENGE] = two_factor.sign_in_challenge(user)
    return redirect(_with_next("login-code", next_url))


@require_http_methods(["GET", "POST"])
def login_code(request):
    challenge = request.session.get(_CHALLENGE)
    if not challenge:
        return redirect(_with_next("login", _next_url(request, "")))
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_auth_budget(request)
            user, kind = two_factor.complete_sign_in(request=request, challenge=challenge, code=form.cleaned_data["code"])
        except RateLimited as exc:
            form.add_error(None, too_many_attempts(exc))
        except errors.TwoFactorChallengeInvalid as exc:
            del request.session[_CHALLENGE]
            messages.error(request, exc.message)
            return redirect(_with_next("login", _next_url(request, "")))
        except errors.InvalidTwoFactorCode as exc:
            form.add_error("code", exc.message)
        else:
            login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
            request.session.pop(_CHALLENGE, None)
            if kind == "recovery":
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code: %(count)d is left. Make new ones in your settings.",
                        "You signed in with a recovery code: %(count)d are left. Make new ones in your settings.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return render(request, "accounts/login_code.html", {"form": form, "next": _next_url(request, "")}, status=status)


def _show_recovery_codes(request, codes: list[str]):
    # Rendered, not redirected to: the codes exist in plain text only in this one response.
    response = render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request, "")})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request):
    """Turn two-factor on (scan, then confirm a code), or, once on: new recovery codes, or turn it off."""
    user = request.user
    if not two_factor.two_factor_enabled(user):
        return _two_factor_setup(request)
    codes_form = RecoveryCodesForm(prefix="codes")
    disable_form = TwoFactorDisableForm(prefix="disable")
    try:
        if request.method == "POST" and "codes-password" in request.POST:
            codes_form = RecoveryCodesForm(request.POST, prefix="codes")
            if codes_form.is_valid():
                codes = two_factor.regenerate_recovery_codes(request=request, user=user, **codes_form.cleaned_data)
                return _show_recovery_codes(request, codes)
        elif request.method == "POST":
            disable_form = TwoFactorDisableForm(request.POST, prefix="disable")
            if disable_form.is_valid():
                two_factor.disable_two_factor(request=request, user=user, **disable_form.cleaned_data)
                messages.success(request, gettext("Two-factor authentication is off."))
                return redirect("account-settings")
    except RateLimited as exc:
        (codes_form if codes_form.is_bound else disable_form).add_error(None, too_many_attempts(exc))
    except errors.WrongPassword as exc:
        (codes_form if codes_form.is_bound else disable_form).add_error("password", exc.message)
    except errors.InvalidTwoFactorCode as exc:
        disable_form.add_error("code", exc.message)
    context = {
        "enabled": True,
        "device": user.two_factor,
        "codes_left": two_factor.recovery_codes_left(user),
        "codes_form": codes_form,
        "disable_form": disable_form,
    }
    status = 400 if codes_form.errors or disable_form.errors else 200
    return render(request, "accounts/two_factor.html", context, status=status)


def _two_factor_setup(request):
    secret = request.session.get(_SETUP_SECRET) or two_factor.new_secret()
    request.session[_SETUP_SECRET] = secret
    form = TwoFactorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.enable_two_factor(user=request.user, secret=secret, code=form.cleaned_data["code"])
        except (errors.InvalidTwoFactorCode, errors.TwoFactorAlreadyOn) as exc:
            form.add_error("code", exc.message)
        else:
            del request.session[_SETUP_SECRET]
            messages.success(request, gettext("Two-factor authentication is on. Keep your recovery codes somewhere safe."))
            return _show_recovery_codes(request, codes)
    uri = two_factor.setup_uri(user=request.user, secret=secret)
    context = {
        "enabled": False,
        "form": form,
        "qr": two_factor.setup_qr_svg(uri, title=gettext("QR code to add QuickPoll to an authenticator app")),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


# --- Password reset, address confirmation, notification mails ----------------------------------


def _link_refused(request, refusal: errors.AccountError, *, again_url: str):
    """A mailed link that no longer works: why, and the way to a new one (`again_url`, a URL name)."""
    return render(request, "accounts/link_refused.html", {"problem": refusal.message, "again_url": again_url}, status=400)


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_auth_budget(request)
        except RateLimited as exc:
            form.add_error(None, too_many_attempts(exc))
        else:
            services.request_password_reset(request=request, email=form.cleaned_data["email"])
            context = {"email": form.cleaned_data["email"], "hours": services.password_reset_hours()}
            return render(request, "accounts/password_reset_sent.html", context)
    return render(request, "accounts/password_reset.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, token):
    try:
        # Looked at before the form is shown: an expired link says so before a new password is typed.
        tokens.read_token(token, tokens.Purpose.PASSWORD_RESET)
    except errors.InvalidToken as exc:
        return _link_refused(request, exc, again_url="password-reset")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_auth_budget(request)
            services.reset_password(token=token, new_password=form.cleaned_data["new_password"])
        except RateLimited as exc:
            form.add_error(None, too_many_attempts(exc))
        except errors.InvalidAccount as exc:
            form.add_service_errors(exc.fields)
        except errors.InvalidToken as exc:
            form.add_error(None, exc.message)
        else:
            logout(request)  # whoever was signed in on this browser, the new password is for the link's account
            messages.success(request, gettext("Your password is changed, and every session of your account has ended. Log in with your new password."))
            return redirect("login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def confirm_email(request, token):
    """The link in a confirmation mail: a page with one button, so that mail scanners opening links confirm nothing."""
    try:
        user, _kind = tokens.read_token(token, tokens.Purpose.CONFIRM_EMAIL)
    except errors.InvalidToken as exc:
        return _link_refused(request, exc, again_url="account-settings")
    address = user.pending_email or user.email
    if request.method == "POST":
        try:
            services.confirm_email(token=token)
        except (errors.InvalidToken, errors.EmailTaken) as exc:
            return _link_refused(request, exc, again_url="account-settings")
        messages.success(request, gettext("Thank you: %(address)s is confirmed.") % {"address": address})
        return redirect("account-settings" if request.user.is_authenticated else "login")
    return render(request, "accounts/confirm_email.html", {"address": address, "account": user})


@login_required
@require_POST
def resend_confirmation(request):
    try:
        spend_auth_budget(request)
    except RateLimited as exc:
        messages.error(request, too_many_attempts(exc))
        return redirect("account-settings")
    if services.send_email_confirmation(user=request.user, request=request):
        address = request.user.pending_email or request.user.email
        messages.success(request, gettext("We sent a new confirmation link to %(address)s.") % {"address": address})
    elif request.user.is_verified and not request.user.pending_email:
        messages.info(request, gettext("Your address is confirmed already."))
    else:
        messages.error(request, gettext("We sent several links to that address in the last hour. Look for them, or try again later."))
    return redirect(reverse("account-settings") + "#email-heading")


@login_required
@require_POST
def cancel_email_change(request):
    services.request_email_change(user=request.user, new_email=request.user.email)
    messages.success(request, gettext("The change of address is cancelled."))
    return redirect(reverse("account-settings") + "#email-heading")


@login_required
@require_POST
def email_preferences(request):
    form = EmailPreferencesForm(request.POST, user=request.user, prefix="mails")
    if form.is_valid():
        services.set_email_preferences(user=request.user, **form.cleaned_data)
        messages.success(request, gettext("Your mail choices are saved."))
    return redirect(reverse("account-settings") + "#email-heading")


# Mail clients POST here for their own unsubscribe button (RFC 8058), with no CSRF token: the signed token
# in the address is what authorises it, and it can only turn mails off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        user, kind = tokens.read_token(token, tokens.Purpose.UNSUBSCRIBE)
        if kind not in NOTIFICATION_LABELS:
            raise errors.InvalidToken()
    except errors.InvalidToken as exc:
        return _link_refused(request, exc, again_url="account-settings")
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "accounts/unsubscribed.html", {"kind_label": NOTIFICATION_LABELS[kind], "done": True})
    return render(request, "accounts/unsubscribed.html", {"kind_label": NOTIFICATION_LABELS[kind], "done": False})


@require_POST
def choose_language(request):
    """The footer's language picker: a cookie for everyone, the account's language too when signed in.

    Like Django's set_language, but the page to go back to is `return_to`: a `next` field on every page
    would be read by the sign-in form's off-site checks."""
    target = request.POST.get("return_to", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = redirect(target)
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    if request.user.is_authenticated:
        services.choose_language(user=request.user, language=language)
    return response
