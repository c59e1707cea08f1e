"""projects 0002/0003: existing projects keep the slug they had (their lowercased key), then
slugs are unique; going back drops the column and the default project."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.factories import UserFactory
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("projects", "0001_initial")]
AFTER = [("projects", "0003_project_slug_unique_organization_default_project")]


@pytest.mark.django_db(transaction=True)
def test_existing_projects_get_their_lowercased_key_as_slug():
    owner = UserFactory(username="olivia")
    try:
        old = migrate_to(BEFORE).get_model("projects", "Project")
        for key in ("BLOG", "SHOP2"):
            old.objects.create(owner_user_id=owner.pk, name=key, path=key.lower(), key=key, color="#3B82F6")

        new_apps = migrate_to(AFTER)
        Project = new_apps.get_model("projects", "Project")
        assert sorted(Project.objects.values_list("key", "slug")) == [("BLOG", "blog"), ("SHOP2", "shop2")]
        with pytest.raises(IntegrityError), transaction.atomic():
            Project.objects.create(owner_user_id=owner.pk, name="X", path="x", key="X1", slug="blog", color="#3B82F6")
        Organization = new_apps.get_model("projects", "Organization")
        org = Organization.objects.create(slug="acme", name="Acme")
        assert org.default_project_id is None

        back = migrate_to(BEFORE).get_model("projects", "Project")
        assert sorted(back.objects.values_list("key", flat=True)) == ["BLOG", "SHOP2"]
    finally:
        migrate_to_latest()
