from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI security schemes of accounts.authentication and punt.api.authentication.
        # Every way in (the web form, allauth's social sign-in, the admin, a test's force_login)
        # ends in Django's login(): the one place to note that the site wants this user to set up
        # two-factor, so pages need not look it up on every request.
        from django.contrib.auth.signals import user_logged_in

        from accounts import schema  # noqa: F401
        from accounts.services.two_factor import two_factor_setup_flag
        from punt.api import schema as punt_schema  # noqa: F401

        user_logged_in.connect(two_factor_setup_flag, dispatch_uid="punt.two_factor_setup_flag")
