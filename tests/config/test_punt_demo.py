from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from projects.models import Project
from tickets.models import Event, Ticket


def run_demo() -> str:
    out = StringIO()
    call_command("punt_demo", skip_checks=True, stdout=out)
    return out.getvalue()


def test_demo_loads_once_and_prints_the_login(db, api_client):
    first = run_demo()
    second = run_demo()

    assert "Loaded the demo project." in first
    assert "Loaded the demo project." not in second
    assert "user 'demo', password 'demo-punt-2026'" in second
    project = Project.objects.get(key="DEMO")
    assert Ticket.objects.filter(project=project).count() == 7
    assert project.memberships.count() == 4
    assert Event.objects.filter(ticket__project=project, kind="comment").count() == 2

    login = api_client.post("/api/v1/auth/login", {"username": "demo", "password": "demo-punt-2026"}, format="json")
    assert login.status_code == 200


def test_the_demo_mails_nobody(db, mailoutbox, django_capture_on_commit_callbacks):
    """Its mentions and assignments are made up: their notifications are in the app only."""
    from notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        run_demo()
    assert Notification.objects.exists()
    assert set(Notification.objects.values_list("email", flat=True)) == {"skipped"}
    assert mailoutbox == []
