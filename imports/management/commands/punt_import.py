"""manage.py punt_import SOURCE FILE --project KEY [--dry-run] [--as USERNAME] [--map field=Column ...]

Runs in the foreground in one transaction and prints the report. The project must exist (the
command does not create one: a project has an owner, a namespace and settings that belong on
the project page); the acting user defaults to the project's owner.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from imports import services
from imports.sources import SOURCES
from projects.models import Membership, Project
from projects.permissions import MANAGE, has_role
from punt import errors
from punt.errors import PuntError


class Command(BaseCommand):
    help = "Import tickets from Jira (CSV, XML), Trello, GitHub, a mapped CSV or a PUNT archive into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=sorted(SOURCES))
        parser.add_argument("file")
        parser.add_argument("--project", required=True, help="The project's key (e.g. PROJ) or slug.")
        parser.add_argument("--as", dest="username", help="Act as this user (default: the project's owner).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; change nothing.")
        parser.add_argument(
            "--map", action="append", default=[], metavar="FIELD=COLUMN", help="Generic CSV: map a column to a field."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["project"].strip()
        project = (
            Project.objects.filter(key=wanted.upper()).first() or Project.objects.filter(slug=wanted.lower()).first()
        )
        if project is None:
            raise CommandError(f"No project with the key or slug {wanted!r}. Create it first (on the projects page).")
        if project.archived_at is not None:
            raise CommandError(f"{project.key} is archived; its owner can restore it first.")
        by = self._user(project, options["username"])
        try:
            mapping = services.parse_mapping(options["map"])
            with open(options["file"], "rb") as stream:
                report = services.import_file(
                    project=project,
                    by=by,
                    source=options["source"],
                    stream=stream,
                    mapping=mapping,
                    dry_run=options["dry_run"],
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from None
        except PuntError as exc:
            raise CommandError(errors.message(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._print(report.as_dict())
        if report.error:
            raise CommandError(f"Nothing was imported: {report.error['where']}: {report.error['message']}")

    def _user(self, project: Project, username: str | None) -> User:
        if not username:
            owner = (
                Membership.objects.filter(project=project, role=Membership.Role.OWNER).select_related("user").first()
            )
            if owner is None:
                raise CommandError(f"{project.key} has no owner; name the acting user with --as.")
            return owner.user
        user = User.objects.filter(username__iexact=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if not has_role(user, project, MANAGE):
            raise CommandError(f"{user.username} is not an admin or owner of {project.key}.")
        return user

    def _print(self, report: dict[str, Any]) -> None:
        write = self.stdout.write
        write(("Dry run: nothing was changed.\n" if report["dry_run"] else "") + f"Source: {report['source']}")
        write(
            f"Tickets: {report['tickets']} ({report['tickets_created']} new, {report['tickets_updated']} updated); "
            f"comments: {report['comments_created']} new, {report['comments_updated']} updated; "
            f"checklist items: {report['checklist_items']}"
        )
        for title, key in (
            ("Columns created", "columns_created"),
            ("Labels created", "labels_created"),
            ("Sprints created", "sprints_created"),
            ("Members added", "members_added"),
        ):
            if report[key]:
                write(f"{title}: {', '.join(report[key])}")
        for name, user in report["users_matched"].items():
            write(f"User {name} -> {user}")
        for name, count in report["users_unknown"].items():
            write(f"Unknown user {name} ({count} mentions): kept as text")
        for name, info in report["custom_fields"].items():
            made = ", created" if info.get("created") else ""
            write(f"Custom field {name} ({info['type']}{made}): {info['tickets']} tickets")
            if info.get("options_created"):
                write(f"  options added: {', '.join(info['options_created'])}")
        for kind, count in report["links"].items():
            write(f"Links {kind}: {count}")
        if report["links_existing"]:
            write(f"Links already there: {report['links_existing']}")
        if report["links_unresolved"]:
            write(f"Links to tickets not in the file or project: {report['links_unresolved']}")
        for warning in report["warnings"]:
            write(f"Warning: {warning}")
