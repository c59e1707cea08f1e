"""The sign-in migration gives every existing account with an address allauth's unverified
primary address row, and keeps the site's saved settings working (defaults for the new fields)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("accounts", "0006_refreshrotation"), ("account", "0009_emailaddress_unique_primary_email")]
AFTER = [("accounts", "0007_signin_settings"), ("account", "0009_emailaddress_unique_primary_email")]


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_get_an_unverified_primary_address():
    try:
        old_apps = migrate_to(BEFORE)
        alice = UserFactory(username="alice", email="Alice@Example.com")
        nobody = UserFactory(username="nobody", email="")
        bob = UserFactory(username="bob", email="bob@example.com")
        OldAddress = old_apps.get_model("account", "EmailAddress")
        OldAddress.objects.create(user_id=bob.pk, email="bob@example.com", primary=True, verified=True)
        old_apps.get_model("accounts", "SystemSettings").objects.create(pk=1, site_name="Saved before")

        new_apps = migrate_to(AFTER)
        Address = new_apps.get_model("account", "EmailAddress")
        rows = sorted(Address.objects.values_list("user_id", "email", "primary", "verified"))
        assert rows == sorted([(alice.pk, "alice@example.com", True, False), (bob.pk, "bob@example.com", True, True)])
        assert not Address.objects.filter(user_id=nobody.pk).exists()
        saved = new_apps.get_model("accounts", "SystemSettings").objects.get()
        assert (saved.site_name, saved.signup_email_domains, saved.password_signup) == ("Saved before", [], True)
        assert (saved.email_verification, saved.require_two_factor) == ("none", "off")
    finally:
        migrate_to_latest()
