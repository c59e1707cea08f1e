"""django-allauth's two-factor hooks, PUNT's way: the site's name and the site's policy."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from accounts.services import system_settings
from accounts.services.two_factor import authenticator_removable


class PuntMFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "This site requires two-factor authentication for your account: add another "
            "authenticator before you remove this one."
        ),
    }

    def get_totp_issuer(self) -> str:
        # What authenticator apps show next to the code: the site's name, as its admins set it.
        return system_settings().site_name

    def _get_site_name(self) -> str:
        # allauth would use the request's host (no django.contrib.sites here); WebAuthn shows this name.
        return system_settings().site_name

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return authenticator_removable(authenticator)
