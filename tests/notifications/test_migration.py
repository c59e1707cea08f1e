"""The move out of chat keeps every notification, its id and its timestamps, both ways."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("chat", "0001_initial"), ("notifications", None)]
AFTER = [("chat", "0002_move_notification_to_notifications"), ("notifications", "0002_notification_inbox")]


@pytest.mark.django_db(transaction=True)
def test_rows_move_to_the_notifications_app_and_back():
    user = UserFactory(username="mary")
    created = timezone.now() - datetime.timedelta(days=3)
    try:
        old_apps = migrate_to(BEFORE)
        OldNotification = old_apps.get_model("chat", "Notification")
        row = OldNotification.objects.create(
            recipient_id=user.pk, kind="mention", text="hi", url="/x", data={"a": [1]}, read_at=created
        )
        OldNotification.objects.filter(pk=row.pk).update(created_at=created)

        new_apps = migrate_to(AFTER)
        NewNotification = new_apps.get_model("notifications", "Notification")
        moved = NewNotification.objects.get()
        assert (moved.pk, moved.recipient_id, moved.kind, moved.text, moved.url, moved.data) == (
            row.pk,
            user.pk,
            "mention",
            "hi",
            "/x",
            {"a": [1]},
        )
        assert (moved.created_at, moved.read_at) == (created, created)
        # The id sequence moved past the copied rows.
        assert NewNotification.objects.create(recipient_id=user.pk, kind="dm", text="next").pk > row.pk

        back = migrate_to(BEFORE).get_model("chat", "Notification")
        assert sorted(back.objects.values_list("pk", "text")) == [(row.pk, "hi"), (row.pk + 1, "next")]
    finally:
        # Back to the newest migrations, not just AFTER: later chat migrations (a column added
        # since) must be in place for the tests that run next on this database.
        migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_notifications_from_before_e_mail_are_never_mailed():
    user = UserFactory(username="mary")
    try:
        old_apps = migrate_to([("notifications", "0002_notification_inbox")])
        old = old_apps.get_model("notifications", "Notification").objects.create(
            recipient_id=user.pk, kind="mention", text="old"
        )
        new_apps = migrate_to([("notifications", "0003_email")])
        Notification = new_apps.get_model("notifications", "Notification")
        assert Notification.objects.get(pk=old.pk).email == "skipped"
        assert Notification.objects.create(recipient_id=user.pk, kind="due", text="new").email == "pending"
    finally:
        migrate_to_latest()
