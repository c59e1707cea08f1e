"""Services refuse words their models do not know, whoever calls them (API, page, command)."""

from __future__ import annotations

import pytest

from projects import services
from punt.errors import Invalid, field_errors
from tests.factories import UserFactory


def test_membership_roles_must_be_known(personas):
    UserFactory(username="nina")
    with pytest.raises(Invalid) as refused:
        services.membership_add(project=personas.project, username="nina", role="superhero", by=personas.owner)
    assert "role" in field_errors(refused.value)
    membership = personas.project.memberships.get(user=personas.member)
    with pytest.raises(Invalid):
        services.membership_update(membership=membership, role="boss", by=personas.owner)
    membership.refresh_from_db()
    assert membership.role == "member"


def test_column_categories_must_be_known(personas):
    with pytest.raises(Invalid) as refused:
        services.column_create(project=personas.project, name="Later", category="someday", by=personas.owner)
    assert "category" in field_errors(refused.value)
    column = personas.project.columns.first()
    with pytest.raises(Invalid):
        services.column_update(column=column, category="someday", by=personas.owner)
    column.refresh_from_db()
    assert column.category == "todo"
