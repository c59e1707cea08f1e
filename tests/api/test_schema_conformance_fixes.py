"""Server answers the schemathesis run found undocumented: an unknown /api/ URL is the JSON 404
for every method (not Django's HTML CSRF page), and a PUNT id of non-ASCII digits is a 4xx in
the error shape (int("²") raised: a 500)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

UNKNOWN_PATHS = ["/api/nothing/here", "/api/v1/does-not-exist", "/api/v3/does/not/exist"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_api_url_is_a_json_404_for_unsafe_methods(db, method, path):
    # A browser-like client: CSRF is enforced, and no token is sent.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(path, data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": f"No API endpoint at {path}"}


@pytest.mark.parametrize("user_id", ["²", "١٢", "1²"])
def test_punt_id_of_non_ascii_digits_is_refused_in_the_error_shape(db, user_id):
    client = APIClient()
    client.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(f"/api/admin/users/{user_id}")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_punt_member_user_id_of_non_ascii_digits_is_a_400(db):
    from tests.factories import ProjectFactory

    owner = UserFactory(username="owner")
    project = ProjectFactory(owner_user=owner, created_by=owner)
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(f"/api/projects/{project.pk}/members", {"userId": "²"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "userId", "message": "'²' is not a valid id."}]


@pytest.fixture
def sprint_client(db):
    from tests.factories import ProjectFactory, SprintFactory

    owner = UserFactory(username="owner")
    project = ProjectFactory(owner_user=owner, created_by=owner)
    sprint = SprintFactory(project=project)
    client = APIClient()
    client.force_authenticate(owner)
    return client, f"/api/projects/{project.pk}/sprints/{sprint.pk}"


def test_punt_date_that_is_no_day_is_a_400(sprint_client):
    client, url = sprint_client
    response = client.patch(url, {"startDate": "2024-02-30"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "startDate", "message": "Use a date like 2024-01-15."}]


def test_punt_timestamps_have_four_digit_years(sprint_client):
    client, url = sprint_client
    response = client.patch(url, {"startDate": "0673-01-19"}, format="json")
    assert response.status_code == 200
    assert response.json()["startDate"] == "0673-01-19T00:00:00.000Z"


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("status", "todo", True),
        ("status", " todo , done ", True),
        ("status", "todo,,done", True),
        ("status", "", True),
        ("status", "TODO", False),
        ("status", "todo;done", False),
        ("status", "w[", False),
        ("type", "Bug,task", True),
        ("type", "SUBTASK", True),
        ("type", "bugs", False),
        ("type", ">", False),
        ("priority", "High, low", True),
        ("priority", "highest", False),
    ],
)
def test_punt_ticket_filters_are_documented_as_the_server_reads_them(personas, name, value, accepted):
    schema = APIClient().get("/api/schema/?format=json").json()
    parameters = schema["paths"]["/api/projects/{project_id}/tickets"]["get"]["parameters"]
    [parameter] = [p for p in parameters if p["name"] == name]
    assert bool(re.search(parameter["schema"]["pattern"], value)) is accepted
    response = personas.client("member").get(f"/api/projects/{personas.project.pk}/tickets", {name: value})
    assert response.status_code == (200 if accepted else 400), response.content
