from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # Outgoing deliveries are written in the transaction of the change that published the
        # event (a rolled-back change sends nothing); see webhooks.services.deliveries_record.
        from punt.events import register_transaction_hook
        from webhooks.services import deliveries_record

        register_transaction_hook(deliveries_record)
