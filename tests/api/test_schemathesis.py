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
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 5

# Operations whose services refuse some schema-valid requests with a 400, by a rule a JSON
# schema cannot state; for these alone a 400 to valid data is expected. Each reason names
# the rule. Everything else must accept what the schema accepts (a 404 or 409 for a
# well-formed reference to a row that does not exist or a state that forbids it is fine).
REFUSED_BY_BUSINESS_RULE = {
    "Django's password validators (too similar to the user name, too common)": [
        "api_admin_users_create",
        "api_v1_auth_register_create",
        "api_auth_register_create",
        "api_v1_users_create",
        "api_v1_users_me_password_create",  # also: the current password must be right
        "api_admin_users_partial_update",
        "api_v1_users_update",
        "api_v1_users_partial_update",
        "api_v1_auth_reset_password_create",  # also: the token must be one that was sent
    ],
    "a user name or id that must name an existing active user": [
        "api_projects_members_create",
        "api_v1_projects_members_create",
        "api_v1_orgs_members_create",
        "api_v1_projects_transfer_ownership_create",
        "conversations_create",
    ],
    "a project key that no other project uses, and that cannot change once set": [
        "api_projects_create",
        "api_v1_projects_create",
        "api_projects_partial_update",
        "api_v1_projects_update",
        "api_v1_projects_partial_update",
    ],
    "an organization's slug cannot change": ["api_v1_orgs_update", "api_v1_orgs_partial_update"],
    "a project has exactly one owner (owner is set by transfer-ownership)": [
        "api_projects_members_partial_update",
        "api_v1_projects_members_update",
        "api_v1_projects_members_partial_update",
    ],
    "columns, labels, sprints, parents, messages and items named in the body must exist in the project": [
        "api_projects_sprints_complete_create",
        "api_v1_projects_sprints_complete_create",
        "api_v1_projects_cards_update",
        "api_v1_projects_cards_partial_update",
        "api_v3_projects_tickets_partial_update",
        "api_projects_tickets_create",
        "api_projects_tickets_partial_update",
        "api_v1_ext_orgs_tickets_create",
        "api_v1_projects_cards_checklist_reorder_partial_update",
        "api_v1_projects_cards_reorder_partial_update",
        "api_v1_projects_columns_cards_create",
        "api_v1_projects_ticket_create",
        "api_v1_projects_ticket_partial_update",
        "api_v3_projects_tickets_create",
        "project_chat_mark_read",
    ],
    "a new column order lists every column of the board exactly once": [
        "api_v1_projects_columns_reorder_update",
        "api_v1_projects_columns_reorder_partial_update",
    ],
    "a column that holds tickets says where they go": ["api_v1_projects_columns_destroy"],
    "custom fields: options only for select types, a default valid for the type, a key no live field has": [
        "api_v1_projects_custom_fields_create",
        "api_v1_projects_custom_fields_update",
        "api_v1_projects_custom_fields_partial_update",
    ],
    "a linked ticket must be one the caller can see; no repeated link, blocks cycle or self-link": [
        "api_v1_projects_cards_relations_create"
    ],
    "a new custom field order lists every live field exactly once": ["api_v1_projects_custom_fields_reorder_create"],
    "a sprint ends on or after its start": ["api_projects_sprints_create", "api_projects_sprints_partial_update"],
    "at most one of before and after": ["project_chat_messages_list"],
    "at most one of before_id, after_id and index": ["api_v1_projects_cards_move_partial_update"],
    "a week or a date, not both": ["api_v1_reports_timesheet_retrieve"],
    "a date range ends on or after its start": ["api_v1_reports_time_retrieve", "time_entries_list"],
    "an API key expires in the future": ["api_v1_users_me_api_keys_create"],
    "an e-mail invitation names one address (a link none) and is used once; an invitation expires in the future, "
    "within a year": ["api_v1_projects_invitations_create", "api_v1_orgs_invitations_create"],
    "webhooks call public addresses only (PUNT_WEBHOOKS_ALLOW_PRIVATE)": ["api_v1_projects_hooks_create"],
    "a PQL query (?q=) must parse and name people, labels, sprints and columns that exist": [
        "api_v1_projects_cards_list",
        "api_v1_projects_board_retrieve",
        "api_v1_search_list",
        "agentsmesh_tickets_list",
        "api_v3_projects_tickets_list",
        "api_v1_projects_pql_complete_retrieve",
    ],
    "insights: a range ends on or after its start and spans at most 366 days; the sprint and epic are the "
    "project's; a PQL filter parses and names what exists": [
        "project_insights_cumulative_flow",
        "project_insights_cycle_time",
        "project_insights_throughput",
        "project_insights_velocity",
        "project_insights_forecast",
        "project_insights_aging_wip",
    ],
    "the file's contents: a non-empty file, an image, a backup zip": [
        "api_v1_projects_cards_attachments_create",
        "api_upload_create",
        "api_v1_users_me_avatar_create",
        "admin_restore_create",
    ],
}
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default

CONFIG = SchemathesisConfig.from_dict(
    {
        # NUL is refused in every DRF string field; the schema has no way to say so per field.
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "allow-x00": False},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_EXPECTED, "400"]}},
            }
            for operation_ids in REFUSED_BY_BUSINESS_RULE.values()
            for operation_id in operation_ids
        ],
    }
)

# What the schema promises: responses as documented, schema-valid requests accepted (but for
# the rules above) and schema-invalid ones refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]

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
    case.validate_response(response, headers=world["headers"], checks=CHECKS)
