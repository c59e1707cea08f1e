"""Outgoing webhooks: subscriptions, signed deliveries to a loopback receiver, retries, the SSRF guard."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from accounts.services import system_settings_update
from punt.events import publish
from tests.factories import TicketFactory
from tests.webhooks.conftest import hmac_hex
from webhooks import outgoing
from webhooks.models import Delivery, Hook

HOOKS = "/api/v1/projects/blog/hooks"
TICKET = "/api/v1/projects/blog/ticket"


@pytest.fixture
def allow_loopback(settings):
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 0


def subscribe(personas, url: str, events: list[str] | None = None) -> dict:
    response = personas.client("admin").post(HOOKS, {"url": url, "events": events or ["*"]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def create_card(personas, title: str = "Ship it") -> dict:
    response = personas.client("member").post(TICKET, {"title": title}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def deliveries(personas, hook: dict) -> list[dict]:
    response = personas.client("admin").get(f"{HOOKS}/{hook['id']}/deliveries")
    assert response.status_code == 200
    return response.json()


# --------------------------------------------------------------------------- management


def test_hooks_role_matrix(personas):
    body = {"url": "https://hooks.example.com/punt", "events": ["board.card_created"]}
    assert personas.matrix("post", HOOKS, body) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 201,
        "owner": 201,
    }
    assert personas.matrix("get", HOOKS) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_hook_detail_change_delete_and_redeliver_role_matrices(personas, allow_loopback):
    hook = subscribe(personas, "https://hooks.example.com/punt")
    create_card(personas)
    delivery = Delivery.objects.earliest("id")
    detail = f"{HOOKS}/{hook['id']}"
    admins_only = {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403}
    assert personas.matrix("get", detail) == {**admins_only, "admin": 200, "owner": 200}
    assert personas.matrix("patch", detail, {"description": "CI"}) == {**admins_only, "admin": 200, "owner": 200}
    assert personas.matrix("get", f"{detail}/deliveries/{delivery.pk}") == {**admins_only, "admin": 200, "owner": 200}
    assert personas.matrix("post", f"{detail}/deliveries/{delivery.pk}/redeliver") == {
        **admins_only,
        "admin": 202,
        "owner": 202,
    }
    assert Delivery.objects.filter(redelivery_of=delivery).count() == 2

    def fresh_hook(role: str) -> str:
        return f"{HOOKS}/{subscribe(personas, 'https://a.example.com/')['id']}"

    assert personas.matrix("delete", fresh_hook) == {
        **admins_only,
        "admin": 204,
        "owner": 204,
    }


def test_api_key_needs_the_projects_scope_to_manage_hooks(personas):
    from accounts.models import ApiKey, hash_api_key

    raw = "punt_hooks_test_tickets_only"
    ApiKey.objects.create(
        user=personas.admin, name="ci", prefix=raw[:12], hashed_key=hash_api_key(raw), scopes=["tickets:write"]
    )
    body = {"url": "https://hooks.example.com/punt", "events": ["*"]}
    client = APIClient()
    assert client.post(HOOKS, body, format="json", HTTP_X_API_KEY=raw).status_code == 403
    assert client.get(HOOKS, HTTP_X_API_KEY=raw).status_code == 403
    assert not Hook.objects.exists()


def test_management_lists_query_counts_do_not_grow(personas, allow_loopback, django_assert_max_num_queries):
    client = personas.client("admin")
    urls = ["/api/v1/projects/blog/git-hooks", "/api/v1/projects/blog/chat-webhooks", HOOKS]

    def add() -> None:
        for provider in ("github", "gitlab", "gitea"):
            client.post(urls[0], {"provider": provider}, format="json")
        client.post(urls[1], {"name": "CI"}, format="json")
        subscribe(personas, "https://hooks.example.com/punt")
        create_card(personas)

    add()
    hook = Hook.objects.first()
    log = f"{HOOKS}/{hook.pk}/deliveries"
    counts = {}
    for url in [*urls, log]:
        with django_assert_max_num_queries(10) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
    for _ in range(3):
        add()
    for url in [*urls, log]:
        with django_assert_max_num_queries(counts[url]):
            assert len(client.get(url).json()) > 1


def test_delivery_log_refuses_a_bad_before(personas):
    hook = subscribe(personas, "https://hooks.example.com/punt")
    response = personas.client("admin").get(f"{HOOKS}/{hook['id']}/deliveries?before=abc")
    assert response.status_code == 400


def test_create_shows_secret_once_list_and_detail_hide_it(personas):
    created = subscribe(personas, "https://hooks.example.com/punt", ["board.card_moved", "chat.message"])
    assert len(created["secret"]) == 64
    assert created["events"] == ["board.card_moved", "chat.message"]
    listed = personas.client("admin").get(HOOKS).json()
    assert "secret" not in listed[0]
    detail = personas.client("admin").get(f"{HOOKS}/{created['id']}").json()
    assert "secret" not in detail
    rotated = personas.client("admin").patch(f"{HOOKS}/{created['id']}", {"rotate_secret": True}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    plain = personas.client("admin").patch(f"{HOOKS}/{created['id']}", {"active": False}, format="json").json()
    assert plain["active"] is False and "secret" not in plain


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "List the event types"), (["nope"], "'nope' is not an event type"), (["presence.join"], "not sent")],
)
def test_invalid_events_are_400(personas, events, message):
    response = personas.client("admin").post(HOOKS, {"url": "https://a.example.com/", "events": events}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "events"
    assert message in response.json()["details"][0]["message"]


def test_delete_hook(personas):
    hook = subscribe(personas, "https://hooks.example.com/punt")
    assert personas.client("member").delete(f"{HOOKS}/{hook['id']}").status_code == 403
    assert personas.client("admin").delete(f"{HOOKS}/{hook['id']}").status_code == 204
    assert personas.client("admin").get(f"{HOOKS}/{hook['id']}").status_code == 404


# --------------------------------------------------------------------------- the SSRF guard


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
    ],
)
def test_ssrf_guard_refuses_non_public_urls_when_subscribing(personas, url):
    response = personas.client("admin").post(HOOKS, {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400, url
    assert response.json()["details"][0]["field"] == "url"


def test_ssrf_guard_at_send_time_fails_the_delivery_without_calling(
    personas, receiver, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    # Subscribed while private addresses were allowed (or the name resolved elsewhere then).
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    hook = subscribe(personas, receiver.url)
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    [delivery] = deliveries(personas, hook)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 1
    assert "loopback" in delivery["error"]
    assert receiver.requests == []


def test_site_setting_allows_private_addresses_at_run_time(
    personas, receiver, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    # The environment says no; a site admin's switch in the system settings says yes.
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = False
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 0
    staff = personas.user("owner")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    switch = personas.client("owner").put(
        "/api/v1/admin/system-settings", {"webhooks_allow_private": True}, format="json"
    )
    assert switch.status_code == 200, switch.content
    hook = subscribe(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    assert [d["status"] for d in deliveries(personas, hook)] == ["succeeded"]
    assert len(receiver.requests) == 1

    # Switched off again: the next delivery is refused at send time, and so is a new subscription.
    system_settings_update(by=staff, webhooks_allow_private=False)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas, "Second")
    assert [d["status"] for d in deliveries(personas, hook)] == ["failed", "succeeded"]
    assert len(receiver.requests) == 1
    refused = personas.client("admin").post(HOOKS, {"url": receiver.url, "events": ["*"]}, format="json")
    assert refused.status_code == 400


def test_environment_allows_private_addresses_whatever_the_site_setting(personas, settings):
    system_settings_update(by=None, webhooks_allow_private=False)
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    assert outgoing.private_addresses_allowed() is True
    assert [str(a) for a in outgoing.check_url("http://127.0.0.1:9/x", require_resolution=True)] == ["127.0.0.1"]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/hook",
        "http://exa mple.com/hook",
        "http://example.com/\nHost: evil",
        "http://example.com:99999/",
    ],
)
def test_malformed_urls_are_400_not_500(personas, url):
    response = personas.client("admin").post(HOOKS, {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["details"][0]["field"] == "url"


def test_lan_host_names_are_fine_when_private_addresses_are_allowed(personas, allow_loopback):
    # A compose service or a LAN box: a single-label name that does not resolve here.
    assert subscribe(personas, "http://receiver:8080/hook")["url"] == "http://receiver:8080/hook"


def test_send_refuses_malformed_urls_without_raising():
    for url in ("http://[::1/x", "http://" + "a" * 300 + ".example.com/"):
        result = outgoing.send(url=url, body=b"{}", headers={}, timeout=1)
        assert result.permanent and result.status_code is None, url


def test_check_url_resolves_names(db):
    with pytest.raises(outgoing.UrlRefused, match="loopback"):
        outgoing.check_url("http://localhost:9/x", require_resolution=True)
    with pytest.raises(outgoing.UrlRefused, match="Could not resolve"):
        outgoing.check_url("http://no-such-host.invalid/x", require_resolution=True)
    assert outgoing.check_url("http://no-such-host.invalid/x", require_resolution=False) == []
    assert [str(a) for a in outgoing.check_url("https://93.184.215.14/x", require_resolution=True)] == ["93.184.215.14"]


# --------------------------------------------------------------------------- deliveries


def test_delivery_is_signed_and_logged(
    personas, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, receiver.url, ["board.card_created"])
    with django_capture_on_commit_callbacks(execute=True):
        card = create_card(personas, "Deploy")
    [request] = receiver.requests
    headers = request["headers"]
    assert headers["X-Punt-Signature-256"] == "sha256=" + hmac_hex(hook["secret"], request["body"])
    assert headers["X-Punt-Event"] == "board.card_created"
    assert headers["Content-Type"] == "application/json"
    document = json.loads(request["body"])
    assert document["event"] == "board.card_created"
    assert document["delivery"] == headers["X-Punt-Delivery"]
    assert document["project"] == {"id": personas.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"}
    assert document["payload"]["key"] == card["key"] == "BLOG-1"

    [delivery] = deliveries(personas, hook)
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 1
    assert delivery["response_code"] == 200
    assert delivery["guid"] == headers["X-Punt-Delivery"]
    assert delivery["completed_at"] is not None
    detail = personas.client("admin").get(f"{HOOKS}/{hook['id']}/deliveries/{delivery['id']}").json()
    assert detail["request_body"] == document
    assert detail["response_body"] == '{"thanks": true}'


def test_only_subscribed_events_are_delivered(
    personas, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, receiver.url, ["board.card_moved"])
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        moved = personas.client("member").patch(f"{TICKET}/BLOG-1", {"column_name": "Done"}, format="json")
    assert moved.status_code == 200
    assert [r["headers"]["X-Punt-Event"] for r in receiver.requests] == ["board.card_moved"]
    assert [d["event"] for d in deliveries(personas, hook)] == ["board.card_moved"]


def test_inactive_hook_gets_nothing(personas, receiver, allow_loopback, immediate_tasks):
    hook = subscribe(personas, receiver.url)
    personas.client("admin").patch(f"{HOOKS}/{hook['id']}", {"active": False}, format="json")
    create_card(personas)
    assert Delivery.objects.count() == 0


def test_disabling_a_hook_stops_its_pending_retries(personas, receiver, allow_loopback, counted):
    from webhooks import services

    receiver.statuses = [500]
    hook = subscribe(personas, receiver.url)
    create_card(personas)
    [delivery] = Delivery.objects.all()
    services.delivery_attempt(delivery_id=delivery.pk)  # fails, a retry is due
    assert Delivery.objects.get().status == "pending"
    personas.client("admin").patch(f"{HOOKS}/{hook['id']}", {"active": False}, format="json")
    Delivery.objects.update(next_attempt_at=None)
    assert services.delivery_attempt(delivery_id=delivery.pk) is None
    [logged] = deliveries(personas, hook)
    assert (logged["status"], logged["attempts"], logged["error"]) == ("failed", 1, "The webhook is disabled.")
    assert len(receiver.requests) == 1
    assert counted[-1] == ("outgoing", "disabled")


def test_deliveries_are_written_in_the_changes_transaction(personas, allow_loopback):
    hook = subscribe(personas, "https://hooks.example.com/punt")
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("board.card_created", {"id": 1}, project_id=personas.project.pk)
        assert Delivery.objects.filter(hook_id=hook["id"]).count() == 1
        raise RuntimeError("the change fails")
    assert Delivery.objects.count() == 0


def test_failing_receiver_is_retried_then_marked_failed(
    personas, receiver, allow_loopback, immediate_tasks, settings, django_capture_on_commit_callbacks
):
    settings.PUNT_WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.statuses = [500]
    hook = subscribe(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    assert len(receiver.requests) == 3
    # Every attempt sends the same document with the same signature.
    assert len({r["body"] for r in receiver.requests}) == 1
    [delivery] = deliveries(personas, hook)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 3
    assert delivery["response_code"] == 500
    assert delivery["error"] == "The receiver answered 500."


def test_each_attempt_is_counted_in_the_metrics(
    personas, receiver, allow_loopback, immediate_tasks, settings, counted, django_capture_on_commit_callbacks
):
    settings.PUNT_WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.statuses = [500]
    subscribe(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    receiver.statuses = [200]
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas, "Second")
    assert counted == [("outgoing", "retry"), ("outgoing", "failed"), ("outgoing", "succeeded")]


def test_receiver_recovering_on_retry_succeeds(
    personas, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    receiver.statuses = [503, 200]
    hook = subscribe(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    [delivery] = deliveries(personas, hook)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("succeeded", 2, 200)


def test_unreachable_receiver_fails_after_retries(
    personas, allow_loopback, immediate_tasks, settings, django_capture_on_commit_callbacks
):
    settings.PUNT_WEBHOOKS_MAX_ATTEMPTS = 2
    # A port nothing listens on: the connection is refused at once.
    hook = subscribe(personas, "http://127.0.0.1:9/hook")
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    [delivery] = deliveries(personas, hook)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("failed", 2, None)
    assert "ConnectionRefusedError" in delivery["error"]


def test_backoff_schedules_the_next_attempt_later(personas, receiver, allow_loopback, settings):
    # The database backend (the default) defers retries: the first failure waits base * 4**0.
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500]
    hook = subscribe(personas, receiver.url)
    create_card(personas)  # on_commit does not run here: the attempt is made by hand
    delivery = Delivery.objects.get(hook_id=hook["id"])
    from webhooks.services import delivery_attempt

    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert 25 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() <= 35
    # Not due yet: a second worker finds nothing to claim.
    assert delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert retry.run_after is not None


def test_redeliver_sends_the_same_document_again(
    personas, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 200]
    hook = subscribe(personas, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        create_card(personas)
    [first] = deliveries(personas, hook)
    url = f"{HOOKS}/{hook['id']}/deliveries/{first['id']}/redeliver"
    assert personas.client("member").post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").post(url)
    assert response.status_code == 202
    assert response.json()["redelivery_of"] == first["id"]
    assert response.json()["guid"] == first["guid"]
    newest, oldest = deliveries(personas, hook)
    assert oldest["id"] == first["id"]
    assert newest["status"] == "succeeded"
    assert receiver.requests[-1]["body"] == receiver.requests[0]["body"]
    assert receiver.requests[-1]["headers"]["X-Punt-Delivery"] == first["guid"]


def test_delivery_log_filters_and_scopes(personas, allow_loopback):
    hook = subscribe(personas, "https://hooks.example.com/punt")
    create_card(personas)
    log = f"{HOOKS}/{hook['id']}/deliveries"
    assert [d["status"] for d in personas.client("admin").get(log).json()] == ["pending"]
    assert personas.client("admin").get(f"{log}?status=failed").json() == []
    assert personas.client("admin").get(f"{log}?status=bogus").status_code == 400
    assert personas.matrix("get", log) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


@pytest.mark.django_db(transaction=True)
def test_db_worker_sends_queued_deliveries(settings, receiver):
    """The default database backend: the change commits, then `db_worker` sends the delivery."""
    from tests.conftest import Personas

    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS = 0
    personas = Personas()
    TicketFactory(project=personas.project)
    hook = subscribe(personas, receiver.url, ["board.card_moved"])
    receiver.statuses = [500, 200]
    moved = personas.client("member").patch(f"{TICKET}/BLOG-1", {"column_name": "Done"}, format="json")
    assert moved.status_code == 200
    delivery = Delivery.objects.get(hook_id=hook["id"])
    assert delivery.status == "pending"
    assert receiver.requests == []

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
    assert len(receiver.requests) == 2


def test_requeue_command_releases_stuck_deliveries(
    personas, receiver, allow_loopback, immediate_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta
    from io import StringIO

    from django.utils import timezone

    hook = subscribe(personas, receiver.url)
    create_card(personas)  # recorded; its on-commit enqueue never runs (a lost task)
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.update(status="sending", attempts=1, last_attempt_at=long_ago, next_attempt_at=long_ago)
    out = StringIO()
    call_command("webhooks_requeue", "--minutes", "5", stdout=out)
    assert out.getvalue().strip() == "Queued 1 delivery again."
    [delivery] = deliveries(personas, hook)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert len(receiver.requests) == 1
