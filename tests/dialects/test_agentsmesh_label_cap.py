"""AgentsMesh ?labels=a,b,...: one OR per name, so the names are capped (a 400 past the cap, not a 500)."""

from __future__ import annotations

import pytest

from tests.dialects.test_agentsmesh_conformance import BASE, _key
from tickets.filters import MAX_LABEL_VALUES

pytestmark = pytest.mark.django_db


def test_more_label_names_than_the_cap_is_a_400_naming_labels(mesh, personas):
    client = _key(personas.member, scopes=["tickets:read"])
    names = ",".join(f"l{index}" for index in range(5000))
    response = client.get(f"{BASE}/tickets?labels={names}")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "labels", "message": f"At most {MAX_LABEL_VALUES} labels at once; 5000 were given."}],
    }
    # Up to the cap, the same names in any case count once.
    capped = ",".join(f"L{index % MAX_LABEL_VALUES},l{index % MAX_LABEL_VALUES}" for index in range(100))
    assert client.get(f"{BASE}/tickets?labels={capped}").status_code == 200
