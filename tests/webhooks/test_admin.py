"""The integrations' admin screens list rows without ever showing a secret, and revoke."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from webhooks import services
from webhooks.models import ChatWebhook, GitHook


@pytest.fixture
def admin_client(personas) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["githook", "gitdelivery", "chatwebhook", "hook", "delivery", "idempotencyrecord"])
def test_changelists_render_without_secrets(personas, admin_client, model):
    git_hook = services.git_hook_create(project=personas.project, provider="github", by=personas.admin)
    services.chat_webhook_create(project=personas.project, name="CI", by=personas.admin)
    hook = services.hook_create(
        project=personas.project, url="https://hooks.example.com/x", events=["*"], by=personas.admin
    )
    response = admin_client.get(f"/admin/webhooks/{model}/")
    assert response.status_code == 200
    assert git_hook.secret.encode() not in response.content
    assert hook.secret.encode() not in response.content
    assert ChatWebhook.objects.get().token_hash.encode() not in response.content


def test_git_hook_detail_hides_the_secret(personas, admin_client):
    git_hook = services.git_hook_create(project=personas.project, provider="gitlab", by=personas.admin)
    response = admin_client.get(f"/admin/webhooks/githook/{git_hook.pk}/change/")
    assert response.status_code == 200
    assert git_hook.secret.encode() not in response.content


def test_revoke_action(personas, admin_client):
    git_hook = services.git_hook_create(project=personas.project, provider="github", by=personas.admin)
    response = admin_client.post(
        "/admin/webhooks/githook/", {"action": "revoke", "_selected_action": [git_hook.pk]}, follow=True
    )
    assert response.status_code == 200
    assert GitHook.objects.get().revoked_at is not None
