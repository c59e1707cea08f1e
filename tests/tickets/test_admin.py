from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import SprintFactory, UserFactory
from tests.tickets.helpers import url
from tickets import services
from tickets.models import Attachment, Event, Ticket, TicketRelation, TimeEntry

pytestmark = pytest.mark.django_db

MODELS = ["ticket", "event", "checklistitem", "attachment", "gitlink", "timeentry", "watcher", "ticketrelation"]


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_every_tickets_model_has_a_working_admin(staff_client, personas, make_card):
    card = make_card("Admin me", assignee="adam")
    services.comment_create(ticket=card, by=personas.member, body="logged", minutes=30)
    services.checklist_item_add(ticket=card, by=personas.member, text="step")
    services.git_link_add(ticket=card, url="https://git.example.com/c/1", by=personas.member)
    services.attachment_add(
        ticket=card, by=personas.member, upload=SimpleUploadedFile("a.txt", b"hi", content_type="text/plain")
    )
    for model in MODELS:
        assert staff_client.get(f"/admin/tickets/{model}/").status_code == 200, model
        assert staff_client.get(f"/admin/tickets/{model}/?q=a").status_code == 200, model
    assert staff_client.get(f"/admin/tickets/ticket/{card.pk}/change/").status_code == 200


def test_ticket_admin_finds_a_key(staff_client, make_card):
    make_card("first")
    second = make_card("second")
    response = staff_client.get("/admin/tickets/ticket/?q=blog-2")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [second]


def test_tickets_are_not_added_in_the_admin(staff_client, personas):
    # Only ticket_create allocates a number (a bare admin form failed on NOT NULL with a 500).
    assert staff_client.get("/admin/tickets/ticket/add/").status_code == 403


def upload(card, by, name="notes.txt"):
    return services.attachment_add(
        ticket=card, by=by, upload=SimpleUploadedFile(name, b"some notes", content_type="text/plain")
    )


def test_change_form_has_no_editable_column_state_or_rank(staff_client, make_card):
    card = make_card("Read only places")
    page = staff_client.get(f"/admin/tickets/ticket/{card.pk}/change/")
    form = page.context["adminform"].form
    for field in ("column", "state", "rank", "project", "closed_at", "deleted_at"):
        assert field not in form.fields, field
        assert field in page.context["adminform"].readonly_fields, field
    assert "title" in form.fields
    assert "the board" in page.content.decode()  # the help text says where moving happens


def change_data(card, **overrides):
    data = {
        "title": card.title,
        "body": card.body,
        "type": card.type,
        "priority": card.priority,
        "assignee": card.assignee_id or "",
        "labels": [label.pk for label in card.labels.all()],
        "sprint": card.sprint_id or "",
        "parent": card.parent_id or "",
        "due_date": "",
        "estimate": "",
    }
    # The read-only inlines still post their management forms.
    for prefix in ("checklist", "git_links", "attachments"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**data, **overrides}


def test_saving_a_title_goes_through_ticket_update(
    staff_client, make_card, columns, published, django_capture_on_commit_callbacks
):
    card = make_card("Old title")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/tickets/ticket/{card.pk}/change/",
            change_data(card, title="New title", column=columns[2].pk, state="closed", rank="1"),
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    card.refresh_from_db()
    assert card.title == "New title"
    # The posted column/state/rank are ignored: the card stays where it was.
    assert (card.column_id, card.state) == (columns[0].pk, "opened")
    update = card.events.get(kind="update")
    assert update.data == {"old": {"title": "Old title"}, "new": {"title": "New title"}}
    assert update.author.username == "root"
    updates = [call for call in published if call["event"] == "board.card_updated"]
    assert len(updates) == 1
    assert updates[0]["payload"]["title"] == "New title"


def test_a_refused_change_is_reported_not_saved(staff_client, personas, make_card):
    card = make_card("Keep me")
    outsider_sprint = SprintFactory()  # another project's sprint
    response = staff_client.post(
        f"/admin/tickets/ticket/{card.pk}/change/", change_data(card, title="Changed", sprint=outsider_sprint.pk)
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.title, card.sprint_id) == ("Keep me", None)
    page = staff_client.get(response["Location"])
    assert "Unknown sprint" in page.content.decode()


def test_delete_destroys_through_the_service(
    staff_client, personas, make_card, published, django_capture_on_commit_callbacks
):
    card = make_card("Doomed")
    attachment = upload(card, personas.member)
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/tickets/ticket/{card.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Ticket.objects.filter(pk=card.pk).exists()
    assert [call["event"] for call in published if call["event"].startswith("board.")] == ["board.card_deleted"]
    assert published[0]["payload"] == {"id": card.pk, "key": "BLOG-1", "column_id": card.column_id}
    assert not storage.exists(name)
    board = personas.client("member").get(url("/board")).json()
    assert [card["key"] for column in board["columns"] for card in column["cards"]] == []


def test_bulk_delete_selected_destroys_each_through_the_service(
    staff_client, personas, make_card, published, django_capture_on_commit_callbacks
):
    first, second, kept = make_card("one"), make_card("two"), make_card("three")
    names = [upload(first, personas.member).file.name, upload(second, personas.member).file.name]
    storage = Attachment.file.field.storage
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/tickets/ticket/",
            {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert list(Ticket.objects.values_list("pk", flat=True)) == [kept.pk]
    assert sorted(call["payload"]["id"] for call in published if call["event"] == "board.card_deleted") == [
        first.pk,
        second.pk,
    ]
    assert not any(storage.exists(name) for name in names)


def test_trash_and_restore_actions_write_the_timeline(staff_client, personas, make_card, published):
    card = make_card("Trash me")
    published.clear()
    staff_client.post("/admin/tickets/ticket/", {"action": "trash_tickets", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert card.deleted_at is not None
    assert card.events.filter(kind="action", text="delete").exists()
    assert [call["event"] for call in published if call["event"].startswith("board.")] == ["board.card_deleted"]
    staff_client.post("/admin/tickets/ticket/", {"action": "restore_tickets", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert card.deleted_at is None
    assert card.events.filter(kind="action", text="restore").exists()


def test_close_and_reopen_actions_move_the_card(staff_client, make_card, columns):
    card = make_card("Finish me")
    staff_client.post("/admin/tickets/ticket/", {"action": "close_tickets", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert (card.state, card.column_id) == ("closed", columns[2].pk)
    assert card.events.filter(kind="action", text="close").exists()
    staff_client.post("/admin/tickets/ticket/", {"action": "reopen_tickets", "_selected_action": [card.pk]})
    card.refresh_from_db()
    assert (card.state, card.column_id) == ("opened", columns[0].pk)


def test_attachment_admin_delete_removes_the_file(
    staff_client, personas, make_card, django_capture_on_commit_callbacks
):
    card = make_card("With a file")
    attachment = upload(card, personas.member)
    storage, name = attachment.file.storage, attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/tickets/attachment/{attachment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not storage.exists(name)
    assert card.events.filter(kind="action", text="detach").exists()


def test_checklist_admin_edits_through_the_service(staff_client, personas, make_card):
    card = make_card("Steps")
    item = services.checklist_item_add(ticket=card, by=personas.member, text="step one")
    response = staff_client.post(f"/admin/tickets/checklistitem/{item.pk}/change/", {"text": "step one", "done": "on"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.done and item.done_by.username == "root"
    assert card.events.filter(kind="action", text="checklist_check").exists()
    staff_client.post(f"/admin/tickets/checklistitem/{item.pk}/delete/", {"post": "yes"})
    assert card.events.filter(kind="action", text="checklist_remove").exists()


def test_comment_deleted_in_the_admin_is_tombstoned(staff_client, personas, make_card):
    card = make_card("Talk")
    comment = services.comment_create(ticket=card, by=personas.member, body="spam", minutes=15)
    response = staff_client.post(f"/admin/tickets/event/{comment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.deleted_at is not None
    assert not TimeEntry.objects.filter(comment=comment).exists()


def test_a_link_removed_in_the_admin_says_so_on_both_timelines(staff_client, personas, make_card):
    one, two = make_card("One"), make_card("Two")
    relation = services.relation_add(ticket=one, other=two, kind="blocks", by=personas.member)
    assert staff_client.get("/admin/tickets/ticketrelation/?q=Two").status_code == 200
    assert staff_client.get("/admin/tickets/ticketrelation/add/").status_code == 403
    response = staff_client.post(f"/admin/tickets/ticketrelation/{relation.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TicketRelation.objects.exists()
    unlinked = Event.objects.filter(kind=Event.Kind.ACTION, text="unrelate").values_list("ticket_id", flat=True)
    assert sorted(unlinked) == sorted([one.pk, two.pk])
