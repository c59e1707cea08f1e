from __future__ import annotations

import pytest

from punt.errors import Invalid, field_errors
from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import GitLink

pytestmark = pytest.mark.django_db

COMMIT = "https://git.example.com/blog/commit/abc123"


def test_role_matrix(personas, make_card):
    card = make_card()
    assert personas.matrix("get", url(f"/cards/{card.pk}/links")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    n = iter(range(100))
    assert personas.matrix(
        "post", url(f"/cards/{card.pk}/links"), lambda role: {"url": f"{COMMIT}{next(n)}", "kind": "commit"}
    ) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }


def test_add_is_idempotent_per_url(personas, make_card, published):
    card = make_card()
    client = personas.client("member")
    payload = {"url": COMMIT, "kind": "commit", "title": "Fix login", "ref": "abc123"}
    first = client.post(url(f"/cards/{card.pk}/links"), payload, format="json")
    assert first.status_code == 201
    assert first.json() == {
        "id": first.json()["id"],
        "kind": "commit",
        "url": COMMIT,
        "title": "Fix login",
        "ref": "abc123",
        "provider": "",
        "state": "",
        "created_by": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "created_at": first.json()["created_at"],
    }
    again = client.post(url(f"/cards/{card.pk}/links"), {**payload, "title": "Fix login (amended)"}, format="json")
    assert again.status_code == 200
    assert again.json()["title"] == "Fix login (amended)"
    assert GitLink.objects.count() == 1
    assert card.events.filter(kind="action", text="link").count() == 1
    assert len(events_named(published, "board.card_updated")) == 1

    link, created = services.git_link_add(
        ticket=card, url=COMMIT, kind="commit", state="merged", provider="github", by=None
    )
    assert (created, link.state, link.provider) == (False, "merged", "github")
    listing = client.get(url(f"/cards/{card.pk}/links")).json()
    assert [item["url"] for item in listing] == [COMMIT]


def test_bad_links(personas, make_card):
    card = make_card()
    client = personas.client("member")
    response = client.post(url(f"/cards/{card.pk}/links"), {"url": "not a url"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "url"
    response = client.post(url(f"/cards/{card.pk}/links"), {"url": COMMIT, "kind": "fork"}, format="json")
    assert response.json()["details"] == [
        {"field": "kind", "message": "Use one of commit, branch, pull_request, issue, tag."}
    ]
    assert GitLink.objects.count() == 0


@pytest.mark.parametrize(
    "bad",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>x</script>", "ftp://git.example.com/x"],
)
def test_only_web_links_are_stored_whoever_calls(personas, make_card, bad):
    # The webhook receivers and the dialects call the service directly, past the API's URLField.
    card = make_card()
    with pytest.raises(Invalid) as refused:
        services.git_link_add(ticket=card, url=bad, by=personas.member)
    assert "url" in field_errors(refused.value)
    response = personas.client("member").post(url(f"/cards/{card.pk}/links"), {"url": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "url"
    assert GitLink.objects.count() == 0
