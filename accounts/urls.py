from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.log_in, name="login"),
    path("accounts/login/code/", views.login_code, name="login-code"),
    path("accounts/logout/", views.log_out, name="logout"),
    path("accounts/settings/", views.account_settings, name="account-settings"),
    path("accounts/language/", views.choose_language, name="choose-language"),
    path("accounts/settings/export/", views.export_my_data, name="export-my-data"),
    path("accounts/settings/api-keys/<uuid:key_id>/revoke", views.revoke_api_key, name="api-key-revoke"),
    path("accounts/settings/two-factor/", views.two_factor_settings, name="two-factor"),
    path("accounts/password-reset/", views.password_reset, name="password-reset"),
    path("accounts/password-reset/<str:token>/", views.password_reset_confirm, name="password-reset-confirm"),
    path("accounts/confirm-email/<str:token>/", views.confirm_email, name="confirm-email"),
    path("accounts/settings/email/resend/", views.resend_confirmation, name="resend-confirmation"),
    path("accounts/settings/email/cancel/", views.cancel_email_change, name="cancel-email-change"),
    path("accounts/settings/email/preferences/", views.email_preferences, name="email-preferences"),
    path("accounts/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<uuid:notification_id>/open", views.open_notification, name="notification-open"),
]
