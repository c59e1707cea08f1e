"""Custom fields (issue 21): managing them through /projects/<slug>/custom-fields, values on cards
(create, update, read), timeline events, card events, webhooks, soft delete and restore."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import CustomField, CustomFieldValue, Event
from tickets.services import custom_fields as cf
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

FIELDS = url("/custom-fields")
ADMINS = {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403}


def field(personas, name: str, type: str, **kwargs) -> CustomField:
    return cf.custom_field_create(project=personas.project, by=personas.admin, name=name, type=type, **kwargs)


@pytest.fixture
def severity(personas):
    return field(personas, "Severity", "select", options=[{"name": "S1", "color": "#ff0000"}, "S2", "S3"])


def create_card(personas, columns, role="member", **body):
    return personas.client(role).post(url(f"/columns/{columns[0].pk}/cards"), {"title": "t", **body}, format="json")


# --------------------------------------------------------------------------- managing fields


def test_create_list_get_update_field(personas):
    client = personas.client("admin")
    response = client.post(
        FIELDS,
        {
            "name": "Customer tier",
            "type": "select",
            "options": [{"name": "Gold", "color": "#FFD700"}, {"name": "Free"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    gold, free = created["options"]
    assert {k: v for k, v in created.items() if k not in ("id", "options")} == {
        "key": "customer_tier",
        "name": "Customer tier",
        "description": "",
        "type": "select",
        "unit": "",
        "required": False,
        "default": None,
        "show_on_card": False,
        "position": 0,
        "deleted_at": None,
    }
    assert (gold["name"], gold["color"], free["color"]) == ("Gold", "#ffd700", "#6b7280")
    assert personas.client("viewer").get(FIELDS).json() == [created]
    detail = client.get(f"{FIELDS}/{created['id']}").json()
    assert detail == {**created, "tickets_with_value": 0}
    # Rename an option and reorder: the id stays, so values keep pointing at it.
    response = client.patch(
        f"{FIELDS}/{created['id']}",
        {"options": [{"id": free["id"], "name": "Free"}, {"id": gold["id"], "name": "Golden"}], "default": "Golden"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [(o["id"], o["name"]) for o in response.json()["options"]] == [(free["id"], "Free"), (gold["id"], "Golden")]
    assert response.json()["default"] == "Golden"


def test_keys_are_unique_among_live_fields_and_derived_from_names(personas):
    client = personas.client("admin")
    first = client.post(FIELDS, {"name": "Due (customer)", "type": "date"}, format="json").json()
    second = client.post(FIELDS, {"name": "Due customer", "type": "date"}, format="json").json()
    assert (first["key"], second["key"]) == ("due_customer", "due_customer_2")
    clash = client.post(FIELDS, {"name": "X", "type": "text", "key": "due_customer"}, format="json")
    assert clash.status_code == 400
    assert clash.json()["details"][0]["field"] == "key"
    bad = client.post(FIELDS, {"name": "X", "type": "nope"}, format="json")
    assert bad.status_code == 400


def test_field_management_role_matrix(personas, severity):
    body = {"name": "Customer", "type": "text"}
    assert personas.matrix("post", FIELDS, body) == {**ADMINS, "admin": 201, "owner": 201}
    assert personas.matrix("get", FIELDS) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    detail = f"{FIELDS}/{severity.pk}"
    assert personas.matrix("get", detail)["viewer"] == 200
    assert personas.matrix("patch", detail, {"description": "How bad"}) == {**ADMINS, "admin": 200, "owner": 200}

    def order(role):
        return {"order": list(personas.project.custom_fields.filter(deleted_at=None).values_list("pk", flat=True))}

    assert personas.matrix("post", f"{FIELDS}/reorder", order) == {**ADMINS, "admin": 200, "owner": 200}

    def fresh():
        CustomField.objects.filter(pk=severity.pk).update(deleted_at=None)

    assert personas.matrix("delete", detail, fresh=fresh) == {**ADMINS, "admin": 204, "owner": 204}
    assert personas.matrix(
        "post",
        f"{detail}/restore",
        fresh=lambda: CustomField.objects.filter(pk=severity.pk).update(deleted_at=timezone.now()),
    ) == {
        **ADMINS,
        "admin": 200,
        "owner": 200,
    }


def test_api_key_needs_the_tickets_scope(personas, severity):
    def client_with(scopes):
        raw = f"punt_{'z' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.admin, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    assert client_with(["chat:write"]).get(FIELDS).status_code == 403
    read_only = client_with(["tickets:read"])
    assert read_only.get(FIELDS).status_code == 200
    assert read_only.post(FIELDS, {"name": "x", "type": "text"}, format="json").status_code == 403
    assert client_with(["tickets:write"]).post(FIELDS, {"name": "x", "type": "text"}, format="json").status_code == 201


def test_reorder(personas, severity):
    other = field(personas, "Customer", "text")
    response = personas.client("admin").post(f"{FIELDS}/reorder", {"order": [other.pk, severity.pk]}, format="json")
    assert [item["key"] for item in response.json()] == ["customer", "severity"]
    assert [item["key"] for item in personas.client("member").get(FIELDS).json()] == ["customer", "severity"]
    bad = personas.client("admin").post(f"{FIELDS}/reorder", {"order": [other.pk]}, format="json")
    assert bad.status_code == 400


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    for index in range(3):
        field(personas, f"F{index}", "select", options=["a", "b"])
    client = personas.client("member")
    client.get(FIELDS)
    with django_assert_max_num_queries(6) as captured:
        assert len(client.get(FIELDS).json()) == 3
    few = len(captured.captured_queries)
    for index in range(3, 10):
        field(personas, f"F{index}", "select", options=["a", "b"])
    with django_assert_max_num_queries(few):
        assert len(client.get(FIELDS).json()) == 10


# --------------------------------------------------------------------------- values per type

VALID = [
    ("text", {}, "  ACME   Corp ", "ACME Corp"),
    ("long_text", {}, "# Notes\n\n*yes*", "# Notes\n\n*yes*"),
    ("number", {"unit": "h"}, 2.5, 2.5),
    ("number", {}, 3, 3),
    ("date", {}, "2026-12-24", "2026-12-24"),
    ("select", {"options": ["Low", "High"]}, "high", "High"),
    ("multi_select", {"options": ["a", "b", "c"]}, ["c", "a", "c"], ["a", "c"]),
    ("user", {}, "ADAM", "adam"),
    ("checkbox", {}, False, False),
    ("url", {}, "https://example.com/x", "https://example.com/x"),
]
INVALID = [
    ("text", {}, 5),
    ("text", {}, "x" * 1001),
    ("number", {}, "12"),
    ("number", {}, True),
    ("date", {}, "24/12/2026"),
    ("select", {"options": ["Low"]}, "Medium"),
    ("multi_select", {"options": ["a"]}, "a"),
    ("multi_select", {"options": ["a"]}, ["a", "z"]),
    ("user", {}, "oscar"),  # not a member
    ("user", {}, "nobody"),
    ("checkbox", {}, "yes"),
    ("url", {}, "javascript:alert(1)"),
]


@pytest.mark.parametrize(("kind", "options", "value", "stored"), VALID)
def test_valid_values_round_trip(personas, columns, kind, options, value, stored):
    made = field(personas, "Thing", kind, **options)
    response = create_card(personas, columns, custom_fields={"thing": value})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["custom_fields"] == {"thing": stored}
    assert personas.client("viewer").get(url(f"/cards/{body['id']}")).json()["custom_fields"] == {"thing": stored}
    listed = personas.client("viewer").get(url("/cards")).json()["results"]
    assert listed[0]["custom_fields"] == {"thing": stored}
    board = personas.client("viewer").get(url("/board")).json()
    assert board["columns"][0]["cards"][0]["custom_fields"] == {"thing": stored}
    # Clearing with null.
    cleared = personas.client("member").patch(
        url(f"/cards/{body['id']}"), {"custom_fields": {"thing": None}}, format="json"
    )
    assert cleared.status_code == 200
    assert cleared.json()["custom_fields"] == {}
    assert not CustomFieldValue.objects.filter(field=made).exists()


def test_select_accepts_option_id(personas, columns, severity):
    s2 = severity.options.get(name="S2")
    response = create_card(personas, columns, custom_fields={"severity": s2.pk})
    assert response.json()["custom_fields"] == {"severity": "S2"}


@pytest.mark.parametrize(("kind", "options", "value"), INVALID)
def test_invalid_values_are_400_naming_the_field(personas, columns, kind, options, value):
    field(personas, "Thing", kind, **options)
    response = create_card(personas, columns, custom_fields={"thing": value})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "custom_fields.thing"
    assert not personas.project.tickets.exists()


def test_unknown_key_and_bad_shape_are_400(personas, columns, make_card):
    response = create_card(personas, columns, custom_fields={"nope": 1})
    assert response.json()["details"][0]["field"] == "custom_fields.nope"
    card = make_card()
    response = personas.client("member").patch(url(f"/cards/{card.pk}"), {"custom_fields": ["x"]}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "custom_fields"


def test_required_and_defaults(personas, columns, severity):
    field(personas, "Customer", "text", required=True)
    field(personas, "Billable", "checkbox", default=True)
    missing = create_card(personas, columns)
    assert missing.status_code == 400
    assert missing.json()["details"] == [{"field": "custom_fields.customer", "message": "Customer is required."}]
    made = create_card(personas, columns, custom_fields={"customer": "ACME"})
    assert made.status_code == 201, made.json()
    assert made.json()["custom_fields"] == {"customer": "ACME", "billable": True}
    cleared = personas.client("member").patch(
        url(f"/cards/{made.json()['id']}"), {"custom_fields": {"customer": None}}, format="json"
    )
    assert cleared.status_code == 400
    assert cleared.json()["details"][0]["field"] == "custom_fields.customer"


def test_member_sets_values_viewer_cannot(personas, make_card, severity):
    card = make_card()
    body = {"custom_fields": {"severity": "S1"}}
    statuses = personas.matrix("patch", url(f"/cards/{card.pk}"), body)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}


def test_update_is_partial_and_writes_one_update_event(personas, make_card, severity, published):
    field(personas, "Customer", "text")
    card = make_card(custom_fields={"severity": "S1", "customer": "ACME"})
    published.clear()
    response = personas.client("member").patch(
        url(f"/cards/{card.pk}"), {"custom_fields": {"severity": "S3"}, "priority": "high"}, format="json"
    )
    assert response.json()["custom_fields"] == {"severity": "S3", "customer": "ACME"}
    update = Event.objects.filter(ticket=card, kind=Event.Kind.UPDATE).get()
    assert update.data == {
        "old": {"priority": "medium", "custom_fields": {"severity": "S1"}},
        "new": {"priority": "high", "custom_fields": {"severity": "S3"}},
    }
    [event] = events_named(published, "board.card_updated")
    assert event["payload"]["custom_fields"] == {"severity": "S3", "customer": "ACME"}
    # The same value again changes nothing and writes nothing.
    published.clear()
    services.ticket_update(ticket=card, by=personas.member, custom_fields={"severity": "s3"})
    assert Event.objects.filter(ticket=card, kind=Event.Kind.UPDATE).count() == 1
    assert events_named(published, "board.card_updated") == []


def test_create_event_carries_values(personas, columns, severity, published):
    create_card(personas, columns, custom_fields={"severity": "S2"})
    [event] = events_named(published, "board.card_created")
    assert event["payload"]["custom_fields"] == {"severity": "S2"}


@pytest.mark.parametrize(("kind", "options", "value", "stored"), VALID)
def test_webhook_payload_carries_custom_fields(personas, make_card, settings, kind, options, value, stored):
    """Each type's value reaches an outgoing hook as the API writes it, and so does its clearing."""
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    field(personas, "Thing", kind, **options)
    hook = personas.client("admin").post(
        url("/hooks"), {"url": "https://hooks.example.com/punt", "events": ["*"]}, format="json"
    )
    assert hook.status_code == 201, hook.content
    card = make_card()
    services.ticket_update(ticket=card, by=personas.member, custom_fields={"thing": value})
    services.ticket_update(ticket=card, by=personas.member, custom_fields={"thing": None})
    deliveries = Delivery.objects.filter(hook_id=hook.json()["id"], event="board.card_updated").order_by("id")
    assert [json.loads(delivery.body)["payload"]["custom_fields"] for delivery in deliveries] == [
        {"thing": stored},
        {},
    ]


def test_option_rename_keeps_values(personas, make_card, severity):
    card = make_card(custom_fields={"severity": "S1"})
    options = [{"id": o.pk, "name": "Critical" if o.name == "S1" else o.name} for o in severity.options.all()]
    cf.custom_field_update(field=severity, by=personas.admin, options=options)
    assert personas.client("member").get(url(f"/cards/{card.pk}")).json()["custom_fields"] == {"severity": "Critical"}
    # An option left out is deleted with its values.
    cf.custom_field_update(field=severity, by=personas.admin, options=options[1:])
    assert personas.client("member").get(url(f"/cards/{card.pk}")).json()["custom_fields"] == {}


# --------------------------------------------------------------------------- soft delete


def test_delete_needs_confirmation_when_tickets_hold_values_then_restore(personas, make_card, severity):
    make_card(custom_fields={"severity": "S1"})
    card = make_card(custom_fields={"severity": "S2"})
    client = personas.client("admin")
    detail = f"{FIELDS}/{severity.pk}"
    assert client.get(detail).json()["tickets_with_value"] == 2
    refused = client.delete(detail)
    assert refused.status_code == 409
    assert refused.json()["error"].startswith("2 tickets have a value of Severity.")
    assert client.delete(f"{detail}?confirm=true").status_code == 204
    assert client.get(FIELDS).json() == []
    assert [item["key"] for item in client.get(f"{FIELDS}?deleted=true").json()] == ["severity"]
    assert client.get(url(f"/cards/{card.pk}")).json()["custom_fields"] == {}
    # The key is free again while the field is deleted; restoring then is a conflict.
    other = client.post(FIELDS, {"name": "Severity", "type": "number"}, format="json").json()
    assert client.post(f"{detail}/restore").status_code == 409
    client.delete(f"{FIELDS}/{other['id']}")
    restored = client.post(f"{detail}/restore")
    assert restored.status_code == 200
    assert restored.json()["tickets_with_value"] == 2
    assert client.get(url(f"/cards/{card.pk}")).json()["custom_fields"] == {"severity": "S2"}
    assert client.post(f"{detail}/restore").status_code == 404  # only deleted fields restore


def test_delete_without_values_needs_no_confirmation(personas, severity):
    assert personas.client("admin").delete(f"{FIELDS}/{severity.pk}").status_code == 204


def test_purge_removes_fields_deleted_over_30_days_ago(personas, make_card, severity):
    make_card(custom_fields={"severity": "S1"})
    recent = field(personas, "Recent", "text")
    cf.custom_field_delete(field=severity, by=personas.admin, confirm=True)
    cf.custom_field_delete(field=recent, by=personas.admin)
    CustomField.objects.filter(pk=severity.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert cf.custom_fields_purge() == 1
    assert list(CustomField.objects.values_list("key", flat=True)) == ["recent"]
    assert not CustomFieldValue.objects.exists()


# --------------------------------------------------------------------------- query counts


def test_card_list_and_board_query_counts_do_not_grow_with_rows(
    personas, make_card, severity, django_assert_max_num_queries
):
    tags = field(personas, "Tags", "multi_select", options=["a", "b"])
    field(personas, "Customer", "text")
    for index in range(2):
        make_card(f"c{index}", custom_fields={"severity": "S1", "tags": ["a", "b"], "customer": "ACME"})
    client = personas.client("member")
    counts = {}
    for rows in ("few", "many"):
        with django_assert_max_num_queries(20) as captured:
            cards = client.get(url("/cards")).json()["results"]
            board = client.get(url("/board")).json()
        counts[rows] = len(captured.captured_queries)
        assert cards[-1]["custom_fields"] == {"severity": "S1", "tags": ["a", "b"], "customer": "ACME"}
        assert board["columns"][0]["cards"][0]["custom_fields"]["tags"] == ["a", "b"]
        for index in range(8):
            make_card(f"m{index}", custom_fields={"severity": "S2", "tags": ["b"], "customer": "X"})
    assert counts["many"] == counts["few"]
    assert tags.values.count() == 2 * 2 + 2 * 8


def test_purge_command(personas, severity, capsys):
    from django.core.management import call_command

    cf.custom_field_delete(field=severity, by=personas.admin)
    CustomField.objects.filter(pk=severity.pk).update(deleted_at=timezone.now() - timedelta(days=30, minutes=1))
    call_command("custom_fields_purge")
    assert capsys.readouterr().out == "Purged 1 custom field.\n"
    assert not CustomField.objects.exists()


def test_admin_lists_edits_deletes_and_restores_through_the_services(client, personas, make_card, severity, published):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    make_card(custom_fields={"severity": "S1"})
    assert client.get("/admin/tickets/customfield/").status_code == 200
    assert client.get("/admin/tickets/customfield/?q=sev").status_code == 200
    page = f"/admin/tickets/customfield/{severity.pk}/change/"
    assert client.get(page).status_code == 200
    form = {"name": "Severity level", "key": "severity", "description": "", "unit": "", "default": "null"}
    form.update({"show_on_card": "on", "options-TOTAL_FORMS": "3", "options-INITIAL_FORMS": "3"})
    for index, option in enumerate(severity.options.all()):
        form.update({f"options-{index}-id": option.pk, f"options-{index}-field": severity.pk})
    response = client.post(page, form)
    assert response.status_code == 302, [
        response.context["adminform"].form.errors,
        response.context["inline_admin_formsets"][0].formset.errors,
    ]
    severity.refresh_from_db()
    assert (severity.name, severity.show_on_card) == ("Severity level", True)
    assert events_named(published, "custom_field.updated")
    response = client.post(f"/admin/tickets/customfield/{severity.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    severity.refresh_from_db()
    assert severity.deleted_at is not None  # soft: values kept
    assert CustomFieldValue.objects.filter(field=severity).count() == 1
    client.post("/admin/tickets/customfield/", {"action": "restore_fields", "_selected_action": [severity.pk]})
    severity.refresh_from_db()
    assert severity.deleted_at is None


def test_options_can_swap_names_and_values_follow_their_option(personas, make_card, severity):
    card = make_card(custom_fields={"severity": "S1"})
    s1, s2, s3 = severity.options.all()
    swapped = [{"id": s1.pk, "name": "S2"}, {"id": s2.pk, "name": "S1"}, {"id": s3.pk, "name": "S3"}]
    response = personas.client("admin").put(f"{FIELDS}/{severity.pk}", {"options": swapped}, format="json")
    assert response.status_code == 200, response.json()
    assert personas.client("member").get(url(f"/cards/{card.pk}")).json()["custom_fields"] == {"severity": "S2"}
    duplicate = [{"id": s1.pk, "name": "A"}, {"name": "a"}]
    assert (
        personas.client("admin").put(f"{FIELDS}/{severity.pk}", {"options": duplicate}, format="json").status_code
        == 400
    )


def test_fields_on_cards_are_the_live_ones_marked(personas, severity):
    from tickets.custom_field_selectors import custom_fields_on_cards

    shown = field(personas, "Shown", "text", show_on_card=True)
    gone = field(personas, "Gone", "text", show_on_card=True)
    cf.custom_field_delete(field=gone, by=personas.admin)
    assert list(custom_fields_on_cards(project=personas.project)) == [shown]


def test_detail_query_count_does_not_grow_with_options_or_values(
    personas, make_card, severity, django_assert_max_num_queries
):
    client = personas.client("admin")
    detail = f"{FIELDS}/{severity.pk}"
    client.get(detail)
    with django_assert_max_num_queries(8) as captured:
        client.get(detail)
    few = len(captured.captured_queries)
    names = [f"S{index}" for index in range(40)]
    cf.custom_field_update(field=severity, by=personas.admin, options=names)
    for index in range(10):
        make_card(f"c{index}", custom_fields={"severity": names[index]})
    with django_assert_max_num_queries(few):
        body = client.get(detail).json()
    assert (len(body["options"]), body["tickets_with_value"]) == (40, 10)


def test_flags_are_true_or_false(personas, severity):
    client = personas.client("admin")
    assert client.get(f"{FIELDS}?deleted=maybe").json()["details"] == [
        {"field": "deleted", "message": "Use true or false."}
    ]
    assert client.delete(f"{FIELDS}/{severity.pk}?confirm=sure").status_code == 400
    assert client.get(f"{FIELDS}?deleted=false").status_code == 200
