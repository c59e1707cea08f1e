"""One action tells each person one thing: the most specific notification wins."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from notifications.services import notification_batch, notify
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


def test_a_comment_that_mentions_a_watcher_gives_one_mention(personas):
    # mary reports (so watches) the ticket; olivia's comment both mentions her and is a change she watches.
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.member, title="Flaky test")
    ticket_services.comment_create(ticket=ticket, by=personas.owner, body="@mary can you **look**?")
    [notification] = Notification.objects.filter(recipient=personas.member)
    assert notification.kind == "mention"
    assert "**look**" in notification.text


def test_a_comment_tells_plain_watchers_once(personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.member, title="Flaky test")
    ticket_services.comment_create(ticket=ticket, by=personas.owner, body="No mention here")
    assert kinds_for(personas.member) == ["watched"]
    # In plain words, naming who did it.
    assert Notification.objects.get(recipient=personas.member).text == (
        f"{ticket.key} Flaky test: olivia commented: No mention here"
    )


def test_assigning_a_watcher_gives_one_assigned(personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.admin, title="Needs an owner")
    ticket_services.ticket_watch(ticket=ticket, user=personas.member)
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, assignee="mary", priority="high")
    assert kinds_for(personas.member) == ["assigned"]
    # adam (the reporter, a watcher) hears of the change once, in plain words.
    [watched] = Notification.objects.filter(recipient=personas.admin)
    assert watched.text == f"{ticket.key} Needs an owner: olivia changed the assignee and the priority"


def test_a_move_and_an_edit_in_one_update_give_one_notification(personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.member, title="Moving")
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, status="in_progress", title="Moved")
    assert kinds_for(personas.member) == ["watched"]


def test_the_most_specific_kind_wins_whatever_the_order(personas):
    with notification_batch():
        notify(recipients=[personas.member, personas.admin], kind="watched", actor=personas.owner, text="changed")
        notify(recipients=[personas.member], kind="mention", actor=personas.owner, text="mentioned you")
        notify(recipients=[personas.member], kind="assigned", actor=personas.owner, text="assigned you")
        # Nothing is written before the batch closes.
        assert not Notification.objects.exists()
    assert kinds_for(personas.member) == ["mention"]
    assert kinds_for(personas.admin) == ["watched"]


def test_a_failed_batch_writes_nothing(personas):
    with pytest.raises(RuntimeError), notification_batch():
        notify(recipients=[personas.member], kind="mention", actor=personas.owner, text="x")
        raise RuntimeError("boom")
    assert not Notification.objects.exists()
    # And the next notify outside a batch is written at once.
    notify(recipients=[personas.member], kind="watched", actor=personas.owner, text="y")
    assert kinds_for(personas.member) == ["watched"]
