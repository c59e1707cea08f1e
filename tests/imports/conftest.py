from __future__ import annotations

from pathlib import Path

import pytest

from imports import services
from imports.report import Report

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def people(personas):
    """The personas with the full names the fixtures' exporters wrote."""
    for user, name in (
        (personas.owner, "Olivia Owner"),
        (personas.admin, "Adam Admin"),
        (personas.member, "Mary Member"),
    ):
        user.display_name = name
        user.save(update_fields=["display_name"])
    return personas


def run_import(personas, source: str, name: str, **options) -> Report:
    with open(FIXTURES / name, "rb") as stream:
        return services.import_file(
            project=personas.project, by=personas.owner, source=source, stream=stream, **options
        )


CSV_MAPPING = {
    "id": "Ref",
    "title": "Name",
    "body": "Details",
    "assignee": "Owner",
    "status": "Stage",
    "labels": "Tags",
    "estimate": "Points",
    "due_date": "Due",
    "created": "Opened",
}

# (source, fixture file, import options) for every source.
FIXTURE_RUNS = [
    ("jira-csv", "jira.csv", {}),
    ("jira-xml", "jira.xml", {}),
    ("trello", "trello.json", {}),
    ("github", "github.json", {}),
    ("csv", "tickets.csv", {"mapping": CSV_MAPPING}),
]


def snapshot(project) -> dict:
    """Everything an import writes into `project`, without ids: two equal snapshots are the same project."""
    from imports.models import SourceMap
    from tickets.models import ChecklistItem, Event, Ticket

    tickets = []
    for t in (
        Ticket.objects.filter(project=project)
        .select_related("column", "assignee", "reporter", "sprint", "parent")
        .order_by("number")
    ):
        tickets.append(
            (
                t.number,
                t.title,
                t.body,
                t.type,
                t.priority,
                t.column.name,
                t.rank,
                t.state,
                t.assignee and t.assignee.username,
                t.reporter and t.reporter.username,
                sorted(label.name for label in t.labels.all()),
                t.sprint and t.sprint.name,
                t.parent and t.parent.number,
                t.due_date,
                t.estimate,
                t.created_at,
                t.updated_at,
                t.closed_at,
                [(e.author_id, e.text, e.created_at) for e in Event.objects.filter(ticket=t).order_by("id")],
                list(ChecklistItem.objects.filter(ticket=t).values_list("text", "done", "order")),
            )
        )
    return {
        "tickets": tickets,
        "custom_fields": custom_field_definitions(project),
        "custom_values": custom_values_by_title(project),
        "links": links_by_title(project),
        "columns": list(project.columns.values_list("name", "category", "order")),
        "labels": list(project.labels.values_list("name", "color")),
        "sprints": list(project.sprints.values_list("name", "status")),
        "members": sorted(project.memberships.values_list("user__username", "role")),
        "map": SourceMap.objects.filter(project=project).count(),
        "counter": type(project).objects.get(pk=project.pk).ticket_counter,
    }


def custom_field_definitions(project) -> list[tuple]:
    """The project's live custom fields with their options (colours included), in order."""
    from tickets.models import CustomField

    return [
        (f.name, f.key, f.type, f.required, f.default, f.show_on_card, [(o.name, o.color) for o in f.options.all()])
        for f in CustomField.objects.filter(project=project, deleted_at__isnull=True).prefetch_related("options")
    ]


def custom_values_by_title(project) -> dict[str, dict]:
    """{ticket title: {field key: value JSON}} as the API shows them (and how many rows hold them)."""
    from tickets.custom_field_selectors import custom_values
    from tickets.models import CustomFieldValue, Ticket

    titles = dict(Ticket.objects.filter(project=project).values_list("pk", "title"))
    values = {titles[pk]: found for pk, found in custom_values(list(titles)).items()}
    values["(rows)"] = CustomFieldValue.objects.filter(ticket__project=project).count()
    return values


def links_by_title(project) -> list[tuple[str, str, str]]:
    """Every relation of the project's tickets as (source title, kind, target title), sorted."""
    from tickets.models import TicketRelation

    return sorted(
        TicketRelation.objects.filter(source__project=project).values_list("source__title", "kind", "target__title")
    )
