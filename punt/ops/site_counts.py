"""Site-wide counts for /api/v1/metrics, read from the apps' tables at scrape time.

Part of the composition root (punt/ops): it may import apps; punt.ops.metrics may not.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from prometheus_client.core import GaugeMetricFamily, Metric

from projects.models import Project
from tickets.models import Ticket


class SiteCountsCollector:
    """Counts read from the database at scrape time (one query each), so every process agrees."""

    def collect(self) -> Iterable[Metric]:
        users = GaugeMetricFamily("punt_users", "Active user accounts.")
        users.add_metric([], get_user_model().objects.filter(is_active=True).count())
        yield users
        projects = GaugeMetricFamily("punt_projects", "Projects that are not archived.")
        projects.add_metric([], Project.objects.filter(archived_at__isnull=True).count())
        yield projects
        tickets = GaugeMetricFamily("punt_open_tickets", "Open tickets (not closed, not deleted).")
        tickets.add_metric([], Ticket.objects.filter(state=Ticket.State.OPENED, deleted_at__isnull=True).count())
        yield tickets
