from __future__ import annotations

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"

    def ready(self) -> None:
        from accounts.services import username_claim_register
        from projects.services import organization_slug_taken

        # Organization slugs and user names share one namespace (/projects/<name>/...).
        username_claim_register(claimed=organization_slug_taken)
