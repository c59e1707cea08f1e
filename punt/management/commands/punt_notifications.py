"""`manage.py punt_notifications`: the daily e-mail work, for cron or a systemd timer.

Instant e-mails need nothing but the task worker (`manage.py db_worker`): each notification
enqueues its own on commit, and a DM's is deferred by PUNT_DM_EMAIL_DELAY_MINUTES. This
command does the rest, once a day (say 07:00 local time, so "due tomorrow" means tomorrow):

- `--due`: remind assignees of their open tickets due tomorrow (idempotent per ticket and date);
- `--sweep`: deliver notifications whose task never ran (a worker that was down), and DMs
  when the task backend cannot defer (run it every few minutes then);
- `--digest`: one digest e-mail per user of what waits for it, grouped by project.

With no option it does all three, in that order.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications import emails
from tickets.services import due_reminders_send


class Command(BaseCommand):
    help = "Send due-tomorrow reminders, deliver overdue notification e-mails and send the daily digests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--due", action="store_true", help="Remind assignees of tickets due tomorrow.")
        parser.add_argument("--sweep", action="store_true", help="Deliver pending notification e-mails.")
        parser.add_argument("--digest", action="store_true", help="Send the daily digest e-mails.")

    def handle(self, *args: Any, due: bool, sweep: bool, digest: bool, **options: Any) -> None:
        everything = not (due or sweep or digest)
        if due or everything:
            self.stdout.write(f"Due-tomorrow reminders: {due_reminders_send()}")
        if sweep or everything:
            self.stdout.write(f"Pending e-mails sent: {emails.sweep()}")
        if digest or everything:
            self.stdout.write(f"Digest e-mails sent: {emails.digests_send()}")
