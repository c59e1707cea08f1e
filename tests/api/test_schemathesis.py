"""Schemathesis over the whole OpenAPI schema: the server answers what the schema says.

Every operation gets a bounded number of generated requests (valid and invalid ones, with a
fixed seed), sent in-process to the Django app as an admin whose API key has every scope.
A response fails the run when it is a 5xx, has a status code or Content-Type the schema does
not list for the operation, or has a body that does not match the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

MAX_EXAMPLES = 5

CONFIG = SchemathesisConfig.from_dict(
    {
        # NUL is refused in every DRF string field; the schema has no way to say so per field.
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "allow-x00": False},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)

# Rules a JSON schema cannot state: other rows (an existing user, a free key, a sprint of
# this project), secrets (the current password, a reset token), file contents and the
# password validators. A schema-valid request may be refused (400) on these fields only.
RULES_BEYOND_THE_SCHEMA: dict[str, set[str]] = {
    "POST /api/admin/users": {"password", "username", "email"},
    "POST /api/projects": {"key", "name"},
    "POST /api/projects/{project_id}/members": {"userId", "username"},
    "POST /api/projects/{project_id}/tickets": {"columnId", "assigneeId", "sprintId", "parentId", "labelIds"},
    "PATCH /api/projects/{project_id}/tickets/{ticket_id}": {"columnId", "assigneeId", "sprintId", "parentId"},
    "POST /api/v1/admin/restore": {"archive", "non_field_errors"},
    "POST /api/v1/auth/register": {"password", "username", "email"},
    "POST /api/v1/auth/reset-password": {"token", "password"},
    "POST /api/v1/conversations": {"usernames"},
    "POST /api/v1/orgs": {"slug"},
    "POST /api/v1/orgs/{org_slug}/members": {"username"},
    "POST /api/v1/projects": {"key", "name"},
    "POST /api/v1/projects/{slug}/cards/{card_id}/attachments": {"file"},
    "DELETE /api/v1/projects/{slug}/columns/{column_id}": {"target_column_id"},
    "POST /api/v1/projects/{slug}/members": {"username"},
    "PUT /api/v1/projects/{slug}/members/{username}": {"role"},
    "PATCH /api/v1/projects/{slug}/members/{username}": {"role"},
    "POST /api/v1/projects/{slug}/sprints/{sprint_id}/complete": {"move_to_sprint_id"},
    "POST /api/v1/projects/{slug}/ticket": {"column_name", "parent", "assignee", "sprint", "labels"},
    "PATCH /api/v1/projects/{slug}/ticket/{key}": {"column_name", "parent", "assignee", "sprint", "labels"},
    "POST /api/v1/projects/{slug}/transfer-ownership": {"username"},
    "GET /api/v1/reports/timesheet": {"date", "week"},
    "POST /api/v1/users": {"password", "username", "email"},
    "PUT /api/v1/users/{user_id}": {"password", "username", "email"},
    "PATCH /api/v1/users/{user_id}": {"password", "username", "email"},
    "POST /api/v1/users/me/avatar": {"avatar"},
    "POST /api/v1/users/me/password": {"current_password", "new_password"},
}

_handler: WSGIHandler | None = None


def django_app(environ: dict[str, Any], start_response: Any) -> Any:
    """Django's WSGI app, built on first use (after pytest-django has set Django up)."""
    global _handler
    if _handler is None:
        _handler = WSGIHandler()
    return _handler(environ, start_response)


schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True), config=CONFIG)
schema.app = django_app


@pytest.fixture
def world(db, settings) -> dict[str, Any]:
    """An admin with an all-scopes API key, an organization, a project in it, and one of each
    thing the paths name, so that generated requests reach real objects and not only 404s."""
    from accounts.services import api_key_create
    from projects.models import Membership, OrganizationMembership
    from tests.factories import (
        LabelFactory,
        MembershipFactory,
        OrganizationFactory,
        ProjectFactory,
        SprintFactory,
        TicketFactory,
        UserFactory,
    )
    from tickets.models import ChecklistItem, Event

    settings.PUNT_API_RATE_PER_MINUTE = 100_000
    admin = UserFactory(username="fuzzer", is_staff=True, is_superuser=True)
    mate = UserFactory(username="mate")
    org = OrganizationFactory(slug="fuzzorg")
    OrganizationMembership.objects.create(organization=org, user=admin, role=OrganizationMembership.Role.OWNER)
    project = ProjectFactory(owner_user=None, created_by=admin, organization=org, name="Fuzz", path="fuzz", key="FUZZ")
    MembershipFactory(project=project, user=mate, role=Membership.Role.MEMBER)
    ticket = TicketFactory(project=project)
    comment = Event.objects.create(ticket=ticket, author=admin, kind=Event.Kind.COMMENT, text="hello")
    item = ChecklistItem.objects.create(ticket=ticket, text="step")
    _, raw_key = api_key_create(user=admin, name="fuzz")
    path_values = {
        "slug": project.slug,
        "project_id": str(project.pk),
        "owner": org.slug,
        "project": project.path,
        "org": org.slug,
        "org_slug": org.slug,
        "card_id": ticket.key,
        "key": ticket.key,
        "number": ticket.number,
        "ticket_id": str(ticket.pk),
        "username": mate.username,
        "user_id": str(mate.pk),
        "member_id": str(mate.pk),
        "label_id": str(LabelFactory(project=project).pk),
        "sprint_id": str(SprintFactory(project=project).pk),
        "column_id": str(project.columns.first().pk),
        "comment_id": str(comment.pk),
        "item_id": str(item.pk),
    }
    return {"headers": {"X-API-Key": raw_key}, "path_values": path_values}


@pytest.fixture(autouse=True)
def _keep_test_transaction() -> Iterator[None]:
    # The test's transaction must outlive each request, as Django's test client arranges.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_api_answers_as_documented(case, world):
    path_is_valid = (
        case.meta is None
        or case.meta.components.get(ParameterLocation.PATH) is None
        or (case.meta.components[ParameterLocation.PATH].mode.is_positive)
    )
    if path_is_valid:
        # Valid path values point at the fixture's objects (a random id is just a 404).
        for name in case.path_parameters or {}:
            if name in world["path_values"]:
                case.path_parameters[name] = world["path_values"][name]
    response = case.call(headers=world["headers"])
    case.validate_response(response, headers=world["headers"], excluded_checks=[positive_data_acceptance])
    if case.meta is not None and case.meta.generation.mode.is_positive and response.status_code == 400:
        refused = {detail["field"] for detail in response.json().get("details", [{"field": "non_field_errors"}])}
        allowed = RULES_BEYOND_THE_SCHEMA.get(f"{case.method.upper()} {case.path}", set())
        assert refused <= allowed, f"schema-valid input refused on {refused - allowed}: {response.json()}"
