"""Notification e-mails on Django's Tasks API (`manage.py db_worker` runs them; see notifications.emails)."""

from __future__ import annotations

from django_tasks import task

from notifications import emails


@task()
def send_emails(notification_ids: list[int], attempt: int = 1) -> int:
    """Send (or queue for the digest) the e-mails of these committed notifications; a later
    attempt sends again those that failed."""
    return emails.deliver(notification_ids=notification_ids, attempt=attempt)
