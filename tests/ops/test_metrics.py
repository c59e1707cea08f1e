"""GET /api/v1/metrics: roles, Prometheus text format, plausible values, several processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from django.contrib.auth import get_user_model
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from punt.ops import metrics
from punt.ops.site_counts import SiteCountsCollector
from tests.factories import TicketFactory
from tests.ops.conftest import as_user, assert_error_shape, with_jwt, with_key
from tickets.models import Ticket

URL = "/api/v1/metrics"
REPO = Path(__file__).resolve().parents[2]


def scrape(client: APIClient) -> dict[str, dict[tuple, float]]:
    """{family name: {(sample name, sorted labels): value}} of one scrape."""
    response = client.get(URL)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.content.decode())


def parse(text: str) -> dict[str, dict[tuple, float]]:
    families: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        samples = families.setdefault(family.name, {})
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families


def value(families: dict, family: str, sample: str, **labels: str) -> float:
    return families[family].get((sample, tuple(sorted(labels.items()))), 0.0)


def test_metrics_role_matrix(staff, personas):
    clients = {
        "anonymous": APIClient(),
        "member": as_user(personas.member),
        "backup_role": with_jwt(staff.backup_role),
        "metrics_role_jwt": with_jwt(staff.metrics_role),
        "site_admin_jwt": with_jwt(staff.site_admin),
        "metrics_role_key_tickets_scope": with_key(staff.metrics_role, ["tickets:read"]),
        "metrics_role_key_admin_scope": with_key(staff.metrics_role, ["admin"]),
        "metrics_role_key_unrestricted": with_key(staff.metrics_role, []),
        "member_key_unrestricted": with_key(personas.member, []),
    }
    responses = {name: client.get(URL) for name, client in clients.items()}
    assert {name: r.status_code for name, r in responses.items()} == {
        "anonymous": 401,
        "member": 403,
        "backup_role": 403,
        "metrics_role_jwt": 200,
        "site_admin_jwt": 200,
        "metrics_role_key_tickets_scope": 403,
        "metrics_role_key_admin_scope": 200,
        "metrics_role_key_unrestricted": 200,
        "member_key_unrestricted": 403,
    }
    for response in responses.values():
        if response.status_code != 200:
            assert_error_shape(response.json())


def test_prometheus_scrape_accept_header_is_served(staff):
    client = with_jwt(staff.metrics_role)
    response = client.get(URL, HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    anonymous = APIClient().get(URL, HTTP_ACCEPT="text/plain")
    assert anonymous.status_code == 401


def test_metrics_after_some_activity(staff, personas):
    TicketFactory(project=personas.project)
    TicketFactory(project=personas.project)
    Ticket.objects.filter(pk=TicketFactory(project=personas.project).pk).update(state=Ticket.State.CLOSED)
    scraper = with_jwt(staff.metrics_role)
    before = scrape(scraper)

    member = as_user(personas.member)
    assert member.get("/api/v1/projects/blog").status_code == 200
    assert member.get("/api/v1/projects/nope").status_code == 404
    assert member.get("/api/v1/does-not-exist").status_code == 404
    metrics.record_event_published("board.card_moved")
    metrics.record_webhook_delivery("github", "success")
    metrics.record_webhook_delivery("github", "success")
    metrics.ws_connected()
    metrics.ws_connected()
    metrics.ws_disconnected()
    metrics.sse_opened()
    try:
        after = scrape(scraper)
    finally:
        metrics.ws_disconnected()
        metrics.sse_closed()

    def delta(family: str, sample: str, **labels: str) -> float:
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    detail = {"method": "GET", "route": "api/v1/projects/<slug:slug>"}
    # Both project URLs count under one route: the pattern, not the raw path.
    assert delta("punt_http_requests", "punt_http_requests_total", **detail, status="200") == 1
    assert delta("punt_http_requests", "punt_http_requests_total", **detail, status="404") == 1
    assert delta("punt_http_requests", "punt_http_requests_total", method="GET", route="^api/.*$", status="404") == 1
    assert not any("blog" in dict(labels).get("route", "") for _, labels in after["punt_http_requests"])
    latency = "punt_http_request_duration_seconds"
    assert delta(latency, f"{latency}_count", **detail, status="200") == 1
    assert delta(latency, f"{latency}_bucket", **detail, status="200", le="+Inf") == 1
    assert value(after, latency, f"{latency}_sum", **detail, status="200") > 0
    # The scrape before this one was itself a request.
    assert (
        delta("punt_http_requests", "punt_http_requests_total", method="GET", route="api/v1/metrics", status="200") == 1
    )

    assert delta("punt_websocket_connections", "punt_websocket_connections") == 1
    assert delta("punt_sse_connections", "punt_sse_connections") == 1
    assert delta("punt_events_published", "punt_events_published_total", event="board.card_moved") == 1
    assert delta("punt_webhook_deliveries", "punt_webhook_deliveries_total", provider="github", outcome="success") == 2

    assert value(after, "punt_users", "punt_users") == get_user_model().objects.filter(is_active=True).count() == 8
    assert value(after, "punt_projects", "punt_projects") == 1
    assert value(after, "punt_open_tickets", "punt_open_tickets") == 2


def test_site_counts_take_one_query_each(staff, django_assert_num_queries):
    collector = SiteCountsCollector()
    with django_assert_num_queries(3):
        families = list(collector.collect())
    assert [f.name for f in families] == ["punt_users", "punt_projects", "punt_open_tickets"]


def test_multiprocess_mode_merges_every_process(tmp_path):
    """Two worker processes record and exit; a third scrapes the merged view of all three."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    worker = textwrap.dedent(
        """
        from punt.ops import metrics
        metrics.record_event_published("ticket.created")
        metrics.record_webhook_delivery("gitlab", "failed")
        metrics.record_http_request(method="GET", route="api/v1/projects", status=200, seconds=0.02)
        metrics.ws_connected()  # the process exits: its open connections must not linger
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], cwd=REPO, env=env, check=True, timeout=60)
    scraper = textwrap.dedent(
        """
        from punt.ops import metrics
        metrics.ws_connected()
        metrics.ws_connected()
        metrics.sse_opened()
        print(metrics.render().decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", scraper], cwd=REPO, env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    families = parse(out)
    assert value(families, "punt_events_published", "punt_events_published_total", event="ticket.created") == 2
    assert (
        value(families, "punt_webhook_deliveries", "punt_webhook_deliveries_total", provider="gitlab", outcome="failed")
        == 2
    )
    labels = {"method": "GET", "route": "api/v1/projects", "status": "200"}
    assert value(families, "punt_http_requests", "punt_http_requests_total", **labels) == 2
    assert (
        value(families, "punt_http_request_duration_seconds", "punt_http_request_duration_seconds_count", **labels) == 2
    )
    assert value(families, "punt_websocket_connections", "punt_websocket_connections") == 2
    assert value(families, "punt_sse_connections", "punt_sse_connections") == 1


async def test_requests_served_through_asgi_are_counted(async_client):
    labels = {"method": "GET", "route": "api/v1/projects", "status": "401"}
    before = REGISTRY.get_sample_value("punt_http_requests_total", labels) or 0
    response = await async_client.get("/api/v1/projects")
    assert response.status_code == 401
    assert REGISTRY.get_sample_value("punt_http_requests_total", labels) == before + 1
    assert REGISTRY.get_sample_value("punt_http_request_duration_seconds_count", labels) >= 1
