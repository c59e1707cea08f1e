from __future__ import annotations

from django.test import Client

from chat.models import Message, Reaction
from tests.chat.conftest import make_messages
from tests.factories import UserFactory


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", is_staff=True, is_superuser=True))
    return client


def test_moderation_list_filters_and_search(personas):
    make_messages(personas.member, 2, project=personas.project)
    client = staff_client()
    response = client.get("/admin/chat/message/", {"q": "message 1", "deleted_at__isempty": "1"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [Message.objects.get(body="message 1")]


def test_moderators_delete_leaves_tombstones(personas):
    messages = make_messages(personas.member, 2, project=personas.project)
    Reaction.objects.create(message=messages[0], user=personas.admin, emoji="👍")
    response = staff_client().post(
        "/admin/chat/message/",
        {"action": "tombstone_messages", "_selected_action": [m.pk for m in messages]},
    )
    assert response.status_code == 302
    assert [(m.body, m.is_deleted, m.deleted_by.username) for m in Message.objects.all()] == [("", True, "sam")] * 2
    assert not Reaction.objects.exists()


def test_hard_delete_action_is_not_offered(personas):
    response = staff_client().get("/admin/chat/message/")
    actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert "tombstone_messages" in actions
    assert "delete_selected" not in actions
