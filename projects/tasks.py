"""Background work of the projects app, on Django's Tasks API (`manage.py db_worker` runs it;
tests use the immediate backend)."""

from __future__ import annotations

from django_tasks import task

from projects.services.invitation_mail import invitation_send


@task()
def send_invitation(invitation_id: int) -> None:
    """Mail an e-mail invitation (with the token only the mail carries)."""
    invitation_send(invitation_id=invitation_id)
