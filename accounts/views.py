"""Account pages: register, log in and out, settings, notifications. Same services as the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import errors, services
from accounts.backends import login_account_key
from accounts.forms import (
    DeleteAccountForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    too_many_attempts,
)
from accounts.models import Notification
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
            user = services.register_user(username=data["username"], email=data["email"], password=data["password"])
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
    status = 400 if profile_form.errors or password_form.errors or delete_form.errors else 200
    context = {"profile_form": profile_form, "password_form": password_form, "delete_form": delete_form}
    return render(request, "accounts/settings.html", context, status=status)


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
