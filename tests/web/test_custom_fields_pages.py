"""Custom fields on the pages (issue 21): the settings section, the ticket page's in-place
inputs, the new-ticket form and the board's chips."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ROLES, Personas
from tests.factories import TicketFactory
from tests.web.conftest import page_client
from tickets import services as ticket_services
from tickets.custom_field_selectors import custom_values_of
from tickets.models import CustomField, Ticket

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
SETTINGS = f"{BASE}/settings"


def make_field(personas: Personas, name: str, type: str, **kwargs) -> CustomField:
    return ticket_services.custom_field_create(
        project=personas.project, by=personas.owner, name=name, type=type, **kwargs
    )


@pytest.fixture
def severity(personas: Personas) -> CustomField:
    return make_field(
        personas,
        "Severity",
        "select",
        show_on_card=True,
        options=[{"name": "S1", "color": "#dc2626"}, {"name": "S2", "color": "#2563eb"}],
    )


def post_settings(personas: Personas, role: str, data: dict) -> object:
    return page_client(personas, role).post(SETTINGS, data)


# --- settings: roles ---------------------------------------------------------------------


def test_settings_role_matrix(personas: Personas, severity: CustomField):
    gets = {role: page_client(personas, role).get(SETTINGS).status_code for role in ROLES}
    assert gets == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}
    for role in ("outsider", "viewer", "member"):
        response = post_settings(personas, role, {"action": "cf_add", "name": f"X {role}", "type": "text"})
        assert response.status_code == (404 if role == "outsider" else 403), role
        response = post_settings(personas, role, {"action": "cf_delete", "field": severity.pk, "confirm": "1"})
        assert response.status_code == (404 if role == "outsider" else 403), role
    assert list(CustomField.objects.values_list("name", flat=True)) == ["Severity"]
    for role in ("admin", "owner"):
        response = post_settings(personas, role, {"action": "cf_add", "name": f"Note {role}", "type": "text"})
        assert response.status_code == 302
        assert response["Location"].endswith("#cf")
    assert set(CustomField.objects.values_list("name", flat=True)) == {"Severity", "Note admin", "Note owner"}


def test_settings_lists_fields_in_order_with_type_and_flags(personas: Personas, severity: CustomField):
    make_field(personas, "Effort", "number", unit="h", required=True, default=1)
    page = page_client(personas, "admin").get(SETTINGS).content.decode()
    assert page.index('data-cf-field="severity"') < page.index('data-cf-field="effort"')
    assert "Single select" in page and "Number" in page
    assert ">required<" in page and ">on cards<" in page
    assert "--lc: #dc2626" in page


# --- settings: create, edit, reorder, delete, restore ------------------------------------


def test_create_select_field_with_options_and_default(personas: Personas):
    response = post_settings(
        personas,
        "admin",
        {
            "action": "cf_add",
            "name": "Team",
            "type": "select",
            "description": "Who owns it",
            "show_on_card": "1",
            "default": "Web",
            "option_id": ["", "", ""],
            "option_order": ["", "", ""],
            "option_name": ["Web", "API", ""],
            "option_color": ["#ff0000", "#00ff00", "#6b7280"],
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(name="Team")
    assert field.show_on_card and field.default == "Web" and field.description == "Who owns it"
    assert [(o.name, o.color) for o in field.options.all()] == [("Web", "#ff0000"), ("API", "#00ff00")]


def test_create_number_with_unit_and_required(personas: Personas):
    post_settings(
        personas,
        "owner",
        {"action": "cf_add", "name": "Effort", "type": "number", "unit": "h", "required": "1", "default": "3"},
    )
    field = CustomField.objects.get(name="Effort")
    assert (field.unit, field.required, field.default) == ("h", True, 3)


def test_create_error_is_shown_on_the_form_with_what_was_typed(personas: Personas):
    client = page_client(personas, "admin")
    response = client.post(
        SETTINGS, {"action": "cf_add", "name": "Odd", "type": "number", "default": "lots"}, follow=True
    )
    page = response.content.decode()
    assert not CustomField.objects.exists()
    assert "data-cf-error" in page and "Must be a number." in page
    assert 'value="Odd"' in page
    # Shown once.
    assert "data-cf-error" not in client.get(SETTINGS).content.decode()


def test_edit_renames_recolours_reorders_adds_and_removes_options_keeping_values(
    personas: Personas, severity: CustomField
):
    ticket = TicketFactory(project=personas.project)
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, custom_fields={"severity": "S1"})
    s1, s2 = severity.options.all()
    response = post_settings(
        personas,
        "admin",
        {
            "action": "cf_update",
            "field": severity.pk,
            "name": "Sev",
            "show_on_card": "1",
            "option_id": [s1.pk, s2.pk, ""],
            "option_order": ["2", "", "1"],
            "option_name": ["Critical", "", "S3"],
            "option_color": ["#000000", "#2563eb", "#00ff00"],
        },
    )
    assert response.status_code == 302
    severity.refresh_from_db()
    assert severity.name == "Sev" and severity.key == "severity"
    assert [(o.name, o.color) for o in severity.options.all()] == [("S3", "#00ff00"), ("Critical", "#000000")]
    assert custom_values_of(ticket.pk) == {"severity": "Critical"}


def test_edit_error_shows_under_that_field(personas: Personas, severity: CustomField):
    client = page_client(personas, "admin")
    response = client.post(
        SETTINGS, {"action": "cf_update", "field": severity.pk, "name": "   ", "option_name": ["S1"]}, follow=True
    )
    page = response.content.decode()
    assert "data-cf-error" in page
    severity.refresh_from_db()
    assert severity.name == "Severity"


def test_reorder_with_up_and_down(personas: Personas, severity: CustomField):
    effort = make_field(personas, "Effort", "number")
    page = page_client(personas, "admin").get(SETTINGS).content.decode()
    assert 'aria-label="Move Effort up"' in page and 'aria-label="Move Severity down"' in page
    post_settings(personas, "admin", {"action": "cf_reorder", "order": [effort.pk, severity.pk]})
    assert list(CustomField.objects.order_by("position").values_list("name", flat=True)) == ["Effort", "Severity"]
    post_settings(personas, "admin", {"action": "cf_reorder", "order": [effort.pk]})  # not every field: refused
    assert list(CustomField.objects.order_by("position").values_list("name", flat=True)) == ["Effort", "Severity"]


def test_delete_with_values_asks_naming_the_count_then_restore(personas: Personas, severity: CustomField):
    for _ in range(2):
        ticket = TicketFactory(project=personas.project)
        ticket_services.ticket_update(ticket=ticket, by=personas.owner, custom_fields={"severity": "S2"})
    client = page_client(personas, "admin")
    page = client.post(SETTINGS, {"action": "cf_delete", "field": severity.pk}, follow=True).content.decode()
    assert "2 tickets carry a value of Severity" in page and "data-cf-confirm" in page
    severity.refresh_from_db()
    assert severity.deleted_at is None
    page = client.post(SETTINGS, {"action": "cf_delete", "field": severity.pk, "confirm": "1"}, follow=True)
    severity.refresh_from_db()
    assert severity.deleted_at is not None
    text = page.content.decode()
    assert 'data-cf-deleted="severity"' in text and 'data-cf-field="severity"' not in text
    client.post(SETTINGS, {"action": "cf_restore", "field": severity.pk})
    severity.refresh_from_db()
    assert severity.deleted_at is None
    assert custom_values_of(ticket.pk) == {"severity": "S2"}


def test_delete_without_values_needs_no_confirmation(personas: Personas, severity: CustomField):
    post_settings(personas, "owner", {"action": "cf_delete", "field": severity.pk})
    severity.refresh_from_db()
    assert severity.deleted_at is not None


def test_unknown_field_id_is_a_message_not_a_crash(personas: Personas):
    response = page_client(personas, "admin").post(SETTINGS, {"action": "cf_delete", "field": "99999"}, follow=True)
    assert response.status_code == 200
    assert "No such custom field." in response.content.decode()


# --- ticket page ------------------------------------------------------------------------

TYPES = [
    # (type, options, posted values, stored value JSON, text on the page afterwards)
    ("text", [], ["Hello there"], "Hello there", 'value="Hello there"'),
    ("long_text", [], ["Some **bold** words"], "Some **bold** words", "<strong>bold</strong>"),
    ("number", [], ["2.5"], 2.5, 'value="2.5"'),
    ("date", [], ["2026-03-04"], "2026-03-04", 'value="2026-03-04"'),
    ("select", ["Low", "High"], ["High"], "High", 'data-cf-chip style="--lc: #6b7280'),
    ("multi_select", ["A", "B", "C"], ["", "C", "A"], ["A", "C"], "<option"),
    ("user", [], ["mary"], "mary", '<option value="mary" selected'),
    ("checkbox", [], ["0", "1"], True, "checked data-submit-on-change"),
    ("url", [], ["https://example.com/x"], "https://example.com/x", 'href="https://example.com/x"'),
]


@pytest.mark.parametrize(("type_", "options", "posted", "stored", "shown"), TYPES, ids=[t[0] for t in TYPES])
def test_ticket_page_edits_each_type_in_place(personas, type_, options, posted, stored, shown):
    make_field(personas, "The field", type_, options=options, unit="h" if type_ == "number" else "")
    ticket = TicketFactory(project=personas.project)
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}"
    page = client.get(url).content.decode()
    assert 'id="ticket-custom"' in page and 'data-cf-form="the_field"' in page
    response = client.post(
        f"{url}/custom-fields",
        {"field": "the_field", "value": posted},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="ticket-custom",
    )
    assert response.status_code == 200
    assert custom_values_of(ticket.pk) == {"the_field": stored}
    page = client.get(url).content.decode()
    if type_ != "multi_select":
        assert shown in page
    else:
        assert page.count("data-cf-chip") == 2
    if type_ == "number":
        assert '<span class="small muted">h</span>' in page


def test_clearing_a_value_and_unticking_a_checkbox(personas: Personas, severity: CustomField):
    make_field(personas, "Done", "checkbox")
    ticket = TicketFactory(project=personas.project)
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, custom_fields={"severity": "S1", "done": True})
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/custom-fields"
    client.post(url, {"field": "severity", "value": ""})
    client.post(url, {"field": "done", "value": "0"})
    assert custom_values_of(ticket.pk) == {"done": False}


def test_bad_value_shows_the_services_error(personas: Personas):
    make_field(personas, "Effort", "number")
    make_field(personas, "Link", "url")
    ticket = TicketFactory(project=personas.project)
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/custom-fields"
    response = client.post(
        url, {"field": "effort", "value": "lots"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-custom"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Must be a number."}
    response = client.post(url, {"field": "link", "value": "javascript:alert(1)"}, follow=True)
    assert "Must be an http or https URL." in response.content.decode()
    response = client.post(url, {"field": "nope", "value": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-custom")
    assert response.status_code == 400
    assert custom_values_of(ticket.pk) == {}


def test_viewers_see_values_without_inputs_and_cannot_post(personas: Personas, severity: CustomField):
    make_field(personas, "Link", "url")
    ticket = TicketFactory(project=personas.project)
    ticket_services.ticket_update(
        ticket=ticket, by=personas.owner, custom_fields={"severity": "S1", "link": "https://example.com/"}
    )
    client = page_client(personas, "viewer")
    page = client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "data-cf-form" not in page
    assert '<a href="https://example.com/"' in page and ">S1</span>" in page
    response = client.post(f"{BASE}/tickets/{ticket.number}/custom-fields", {"field": "severity", "value": "S2"})
    assert response.status_code == 403
    assert (
        page_client(personas, "outsider")
        .post(f"{BASE}/tickets/{ticket.number}/custom-fields", {"field": "severity", "value": "S2"})
        .status_code
        == 404
    )
    assert custom_values_of(ticket.pk) == {"severity": "S1", "link": "https://example.com/"}


def test_deleted_fields_are_not_on_the_ticket_page(personas: Personas, severity: CustomField):
    ticket = TicketFactory(project=personas.project)
    ticket_services.custom_field_delete(field=severity, by=personas.owner)
    page = page_client(personas, "member").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "ticket-custom" not in page


def test_new_ticket_form_shows_required_fields_with_defaults_and_applies_them(
    personas: Personas, severity: CustomField
):
    make_field(personas, "Effort", "number", required=True, default=3)
    make_field(personas, "Team", "text", required=True)
    make_field(personas, "Optional", "text", default="kept")
    client = page_client(personas, "member")
    page = client.get(f"{BASE}/tickets/new").content.decode()
    assert 'name="cf-effort"' in page and 'value="3"' in page and 'name="cf-team"' in page
    assert 'name="cf-optional"' not in page and 'name="cf-severity"' not in page
    response = client.post(f"{BASE}/tickets/new", {"title": "No team", "type": "task", "priority": "medium"})
    assert response.status_code == 200
    assert "Team is required." in response.content.decode()
    response = client.post(
        f"{BASE}/tickets/new",
        {"title": "With team", "type": "task", "priority": "medium", "cf-team": "Web", "cf-effort": "5"},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="With team")
    assert custom_values_of(ticket.pk) == {"effort": 5, "team": "Web", "optional": "kept"}


# --- board ------------------------------------------------------------------------------


def test_board_shows_chips_of_shown_on_card_fields_only(personas: Personas, severity: CustomField):
    make_field(personas, "Effort", "number", unit="h", show_on_card=True)
    make_field(personas, "Hidden", "text")
    ticket = TicketFactory(project=personas.project)
    ticket_services.ticket_update(
        ticket=ticket, by=personas.owner, custom_fields={"severity": "S1", "effort": 2, "hidden": "secret"}
    )
    page = page_client(personas, "viewer").get(f"{BASE}/").content.decode()
    assert "Severity: S1" in page and "--lc: #dc2626" in page
    assert "Effort: 2 h" in page
    assert "secret" not in page
    # The live feed's one-card fragment draws the same chips.
    fragment = page_client(personas, "viewer").get(f"{BASE}/cards/{ticket.number}").content.decode()
    assert "Severity: S1" in fragment and "Effort: 2 h" in fragment


def test_board_query_count_does_not_grow_with_cards(personas: Personas, severity: CustomField):
    make_field(personas, "Effort", "number", show_on_card=True)
    client = page_client(personas, "member")

    def grow(n: int) -> None:
        for i in range(n):
            ticket = TicketFactory(project=personas.project, title=f"T{i}")
            ticket_services.ticket_update(
                ticket=ticket, by=personas.owner, custom_fields={"severity": "S2", "effort": i}
            )

    grow(2)
    client.get(f"{BASE}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/")
    grow(10)
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"{BASE}/").content.decode()
    assert page.count("Severity: S2") == 12
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"][:150] for q in many.captured_queries]


def test_settings_and_ticket_page_query_counts_do_not_grow_with_fields(personas: Personas):
    ticket = TicketFactory(project=personas.project)
    client = page_client(personas, "admin")

    def grow(n: int) -> None:
        start = CustomField.objects.count()
        for i in range(start, start + n):
            field = make_field(personas, f"Pick {i}", "select", show_on_card=True, options=["a", "b"])
            ticket_services.ticket_update(ticket=ticket, by=personas.owner, custom_fields={field.key: "b"})
            deleted = make_field(personas, f"Gone {i}", "multi_select", options=["x"])
            ticket_services.custom_field_delete(field=deleted, by=personas.owner)

    grow(1)
    for url in (SETTINGS, f"{BASE}/tickets/{ticket.number}", f"{BASE}/"):
        client.get(url)
    with CaptureQueriesContext(connection) as few:
        for url in (SETTINGS, f"{BASE}/tickets/{ticket.number}", f"{BASE}/"):
            client.get(url)
    grow(6)
    with CaptureQueriesContext(connection) as many:
        for url in (SETTINGS, f"{BASE}/tickets/{ticket.number}", f"{BASE}/"):
            assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"][:150] for q in many.captured_queries]
