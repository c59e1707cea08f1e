"""Project settings: outgoing webhooks' delivery log, redelivery, pause/resume and secret rotation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import ProjectFactory
from tests.web.conftest import page_client, page_matrix
from webhooks import services as hook_services
from webhooks.models import Delivery, Hook

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
MANAGE_ROW = {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}


@pytest.fixture
def hook(personas: Personas) -> Hook:
    return hook_services.hook_create(
        project=personas.project, url="https://example.com/hook", events=["*"], description="", by=personas.owner
    )


def _delivery(hook: Hook, **fields) -> Delivery:
    defaults = {"event": "board.card_moved", "body": '{"event": "board.card_moved"}', "status": "failed"}
    return Delivery.objects.create(hook=hook, **{**defaults, **fields})


def test_delivery_log_role_matrix_and_content(personas: Personas, hook: Hook):
    _delivery(hook, status="delivered", response_code=200, duration_ms=35, attempts=1)
    _delivery(hook, status="failed", response_code=500, error="Server said no <b>", attempts=3)
    url = f"{BASE}/settings/hooks/{hook.pk}"
    assert page_matrix(personas, "get", url) == MANAGE_ROW
    html = page_client(personas, "admin").get(url).content.decode()
    assert "https://example.com/hook" in html and "35 ms" in html and "500" in html
    assert "Server said no &lt;b&gt;" in html  # the receiver's words are escaped
    assert html.count(">Redeliver</button>") == 2
    # The settings page links to it.
    assert f'href="{url}"' in page_client(personas, "admin").get(f"{BASE}/settings").content.decode()


def test_status_filter_and_odd_values(personas: Personas, hook: Hook):
    _delivery(hook, status="delivered", event="board.card_created")
    _delivery(hook, status="failed", event="board.card_deleted")
    client = page_client(personas, "admin")
    url = f"{BASE}/settings/hooks/{hook.pk}"
    html = client.get(url, {"status": "failed"}).content.decode()
    assert "board.card_deleted" in html and "board.card_created" not in html
    for odd in ("nope", "", "'; drop"):
        response = client.get(url, {"status": odd})
        assert response.status_code == 200 and "board.card_created" in response.content.decode()


def test_delivery_log_query_count_is_flat(personas: Personas, hook: Hook):
    client = page_client(personas, "admin")
    url = f"{BASE}/settings/hooks/{hook.pk}"
    _delivery(hook)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(20):
        _delivery(hook, redelivery_of=Delivery.objects.earliest("id"))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(one.captured_queries)


def test_redeliver_from_the_page(personas: Personas, hook: Hook):
    delivery = _delivery(hook)
    url = f"{BASE}/settings/hooks/{hook.pk}"
    row = {}
    for role in ("anonymous", "outsider", "viewer", "member", "admin", "owner"):
        row[role] = page_client(personas, role).post(url, {"delivery": delivery.pk}).status_code
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 302, "owner": 302}
    copies = Delivery.objects.filter(redelivery_of=delivery)
    assert copies.count() == 2 and {c.guid for c in copies} == {delivery.guid}
    client = page_client(personas, "admin")
    assert client.post(url, {"delivery": "999999"}).status_code == 404
    assert client.post(url, {"delivery": "abc"}).status_code == 404


def test_hook_of_another_project_is_404(personas: Personas, hook: Hook):
    other = ProjectFactory(owner_user=personas.admin, key="ADAM", name="Adam's")
    foreign = hook_services.hook_create(
        project=other, url="https://example.com/other", events=["*"], description="", by=personas.admin
    )
    delivery = _delivery(foreign)
    client = page_client(personas, "admin")
    assert client.get(f"{BASE}/settings/hooks/{foreign.pk}").status_code == 404
    assert client.post(f"{BASE}/settings/hooks/{hook.pk}", {"delivery": delivery.pk}).status_code == 404
    assert client.get(f"{BASE}/settings/hooks/99999999").status_code == 404
    assert not Delivery.objects.filter(redelivery_of=delivery).exists()


def test_rotate_secret_shows_the_new_one_once(personas: Personas, hook: Hook):
    old = hook.secret
    client = page_client(personas, "admin")
    response = client.post(f"{BASE}/settings", {"action": "hook_rotate", "hook": hook.pk}, follow=True)
    hook.refresh_from_db()
    assert hook.secret != old
    html = response.content.decode()
    assert hook.secret in html and "Secret rotated" in html
    assert hook.secret not in client.get(f"{BASE}/settings").content.decode()
    rotated = hook.secret
    member = page_client(personas, "member")
    assert member.post(f"{BASE}/settings", {"action": "hook_rotate", "hook": hook.pk}).status_code == 403
    hook.refresh_from_db()
    assert hook.secret == rotated


def test_pause_and_resume(personas: Personas, hook: Hook):
    client = page_client(personas, "admin")
    client.post(f"{BASE}/settings", {"action": "hook_active", "hook": hook.pk, "active": "0"})
    hook.refresh_from_db()
    assert hook.active is False
    assert ">Resume</button>" in client.get(f"{BASE}/settings").content.decode()
    client.post(f"{BASE}/settings", {"action": "hook_active", "hook": hook.pk, "active": "1"})
    hook.refresh_from_db()
    assert hook.active is True
    # A bad hook id is a 404 page, not a 500.
    assert client.post(f"{BASE}/settings", {"action": "hook_active", "hook": "x"}).status_code == 404
