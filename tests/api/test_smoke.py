from __future__ import annotations


def test_personas_build(personas):
    assert personas.project.memberships.count() == 4
    assert [c.name for c in personas.project.columns.all()] == ["To Do", "In Progress", "Done"]


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"error": "No API endpoint at /api/v1/does-not-exist"}
