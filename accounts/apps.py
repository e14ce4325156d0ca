from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts.api_keys import key_of_request
        from quickpoll.ratelimits import count_api_keys_with

        count_api_keys_with(key_of_request)


class QuickPollAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin on QuickPoll's site, whose login is rate limited like every other."""

    default = False  # AdminConfig is its own module's default; this one is named in INSTALLED_APPS
    default_site = "accounts.admin_site.QuickPollAdminSite"
