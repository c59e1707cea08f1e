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
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 5

CONFIG = SchemathesisConfig.from_dict(
    {
        # NUL is refused in every DRF string field; the schema has no way to say so per field.
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "allow-x00": False},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)

# What the schema promises about responses. (Whether every schema-valid request is accepted
# and every invalid one refused is not checked yet: services enforce rules, such as an
# existing user name or a free project key, that a JSON schema cannot state.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
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
