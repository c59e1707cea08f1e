from __future__ import annotations

import itertools

from projects import services
from projects.models import Label
from tests.factories import LabelFactory, ProjectFactory, TicketFactory


def labels_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}/labels{suffix}"


def test_list_matrix(personas):
    assert personas.matrix("GET", labels_url(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_create_matrix(personas):
    statuses = personas.matrix("POST", labels_url(personas), lambda role: {"name": f"label-{role}"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}


def test_detail_matrix(personas):
    label = LabelFactory(project=personas.project)
    assert personas.matrix("GET", labels_url(personas, f"/{label.pk}")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_update_matrix(personas):
    label = LabelFactory(project=personas.project)
    statuses = personas.matrix("PUT", labels_url(personas, f"/{label.pk}"), {"color": "#000000"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}


def test_delete_matrix(personas):
    counter = itertools.count()
    current: dict[str, int] = {}

    def fresh() -> None:
        current["id"] = LabelFactory(project=personas.project, name=f"tmp{next(counter)}").pk

    statuses = personas.matrix("DELETE", lambda role: labels_url(personas, f"/{current['id']}"), fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 204, "admin": 204, "owner": 204}


def test_create_auto_colour_and_shape(personas, published):
    response = personas.client("member").post(labels_url(personas), {"name": "bug"}, format="json")
    assert response.status_code == 201
    body = response.json()
    label = Label.objects.get(name="bug")
    assert body == {
        "id": label.pk,
        "project_id": personas.project.pk,
        "name": "bug",
        "color": body["color"],
        "description": "",
        "created_at": body["created_at"],
    }
    assert body["color"] in services.PALETTE
    assert published.names == ["label.created"]
    assert published.calls[0]["project_id"] == personas.project.pk


def test_explicit_colour_is_validated(personas):
    member = personas.client("member")
    response = member.post(labels_url(personas), {"name": "docs", "color": "#3b82f6"}, format="json")
    assert response.json()["color"] == "#3B82F6"
    bad = member.post(labels_url(personas), {"name": "ui", "color": "blue"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "color"
    assert not Label.objects.filter(name="ui").exists()


def test_names_unique_per_project_case_insensitive(personas):
    LabelFactory(project=personas.project, name="Bug")
    member = personas.client("member")
    response = member.post(labels_url(personas), {"name": "bug"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "name", "message": "This project already has a label named 'bug'."}]
    other = LabelFactory(project=personas.project, name="feature")
    assert member.put(labels_url(personas, f"/{other.pk}"), {"name": "BUG"}, format="json").status_code == 400
    # Same name in another project is fine.
    LabelFactory(project=ProjectFactory(key="OTH"), name="feature")
    assert personas.project.labels.count() == 2


def test_update_and_delete_publish(personas, published):
    label = LabelFactory(project=personas.project, name="bug")
    ticket = TicketFactory(project=personas.project)
    ticket.labels.add(label)
    member = personas.client("member")
    response = member.put(labels_url(personas, f"/{label.pk}"), {"name": "defect", "description": "Broken"})
    assert (response.json()["name"], response.json()["description"]) == ("defect", "Broken")
    assert member.delete(labels_url(personas, f"/{label.pk}")).status_code == 204
    assert list(ticket.labels.all()) == []
    assert published.names == ["label.updated", "label.deleted"]
    assert published.calls[1]["payload"]["id"] == label.pk


def test_label_of_another_project_is_404(personas):
    foreign = LabelFactory(project=ProjectFactory(key="OTH"))
    assert personas.client("owner").get(labels_url(personas, f"/{foreign.pk}")).status_code == 404
    assert personas.client("owner").delete(labels_url(personas, f"/{foreign.pk}")).status_code == 404


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("viewer")
    with django_assert_max_num_queries(4) as small:
        client.get(labels_url(personas))
    LabelFactory.create_batch(12, project=personas.project)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(labels_url(personas)).json()) == 12


def test_label_writes_need_projects_scope(personas, api_key_client):
    client = api_key_client(personas.member, ["projects:read", "tickets:write"])
    assert client.get(labels_url(personas)).status_code == 200
    assert client.post(labels_url(personas), {"name": "nope"}, format="json").status_code == 403
