"""The notification admin shows rows the services wrote; it never adds or edits one."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.models import Notification
from notifications.services import notify
from tests.factories import UserFactory


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", is_staff=True, is_superuser=True))
    return client


def test_notifications_are_view_only(personas, staff):
    [notification] = notify(recipients=[personas.admin], kind="dm", actor=personas.member, text="hi")
    assert staff.get("/admin/notifications/notification/").status_code == 200
    assert staff.get(f"/admin/notifications/notification/{notification.pk}/change/").status_code == 200
    assert staff.get("/admin/notifications/notification/add/").status_code == 403
    assert (
        staff.post(
            f"/admin/notifications/notification/{notification.pk}/change/", {"title": "x", "text": "x"}
        ).status_code
        == 403
    )
    assert Notification.objects.get().text == "hi"


def test_a_stale_notification_can_be_deleted(personas, staff):
    [notification] = notify(recipients=[personas.admin], kind="dm", actor=personas.member, text="hi")
    response = staff.post(f"/admin/notifications/notification/{notification.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Notification.objects.exists()
