"""Mail of the accounts app (allauth's confirmation links), sent by the task worker so a
request never waits for SMTP."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def email_send(*, subject: str, body: str, html: str, to: list[str], from_email: str | None = None) -> None:
    """Send one rendered mail (plain text, and HTML when there is one)."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
