from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI security schemes of punt.api.authentication.
        from punt.api import schema  # noqa: F401
