"""Background work of the integrations, on Django's Tasks API (the django-tasks backport).

`manage.py db_worker` runs these beside daphne with the database backend; tests use the
immediate backend or run the worker once.
"""

from __future__ import annotations

from django_tasks import task

from webhooks import services


@task()
def deliver(delivery_id: int) -> None:
    """Attempt one outgoing webhook delivery (retries re-enqueue themselves with a delay)."""
    services.delivery_attempt(delivery_id=delivery_id)
