from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI security schemes of accounts.authentication and punt.api.authentication.
        from accounts import schema  # noqa: F401
        from punt.api import schema as punt_schema  # noqa: F401
