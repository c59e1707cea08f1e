"""An import's people: a source's names and e-mails matched to PUNT users."""

from __future__ import annotations

from accounts.models import User
from imports.records import (
    MemberRecord,
    Person,
)
from imports.report import Report
from projects import services as project_services
from projects.models import Membership, Project


class People:
    """Matches a source's people to PUNT users, once per person, and keeps the report's lists."""

    def __init__(self, *, project: Project, by: User, report: Report) -> None:
        self.project = project
        self.by = by
        self.report = report
        self.cache: dict[Person, User | None] = {}
        self.by_email: dict[str, User] = {}
        self.by_username: dict[str, User] = {}
        self.by_name: dict[str, User] = {}
        for membership in Membership.objects.filter(project=project).select_related("user"):
            self._remember(membership.user)

    def _remember(self, user: User) -> None:
        if user.email:
            self.by_email[user.email.lower()] = user
        self.by_username[user.username.lower()] = user
        if user.display_name:
            self.by_name.setdefault(user.display_name.lower(), user)
        name = user.get_full_name()
        if name:
            self.by_name.setdefault(name.lower(), user)

    def _site_user(self, *, email: str = "", username: str = "") -> User | None:
        users = User.objects.filter(is_active=True)
        if email:
            return users.filter(email__iexact=email).order_by("id").first()
        return users.filter(username__iexact=username).first()

    def _join(self, user: User, role: str = Membership.Role.MEMBER) -> None:
        if role == Membership.Role.OWNER:
            role = Membership.Role.ADMIN  # a project has one owner: the importing project's
        project_services.membership_add(project=self.project, username=user.username, role=role, by=self.by)
        self._remember(user)
        self.report.members_added.append(user.username)

    def _match(self, person: Person, role: str = Membership.Role.MEMBER) -> tuple[User | None, str]:
        email = person.email.strip().lower()
        if email:
            if email in self.by_email:
                return self.by_email[email], "e-mail"
            user = self._site_user(email=email)
            if user is not None:
                self._join(user, role)
                return user, "e-mail"
        for value in (person.username, person.name):
            value = value.strip().lower()
            if value and value in self.by_username:
                return self.by_username[value], "user name"
            if value and value in self.by_name:
                return self.by_name[value], "name"
        return None, ""

    def user(self, person: Person) -> tuple[User | None, bool]:
        """(the user, True) if matched or nobody was named; (None, False) for an unknown person."""
        if not person:
            return None, True
        if person not in self.cache:
            user, how = self._match(person)
            self.cache[person] = user
            if user is not None:
                self.report.users_matched[person.label] = f"{user.username} (by {how})"
        user = self.cache[person]
        if user is None:
            self.report.users_unknown[person.label] = self.report.users_unknown.get(person.label, 0) + 1
            return None, False
        return user, True

    def member(self, record: MemberRecord) -> None:
        """An archive's member: matched site-wide by e-mail, else by user name when no e-mail is
        given (the archive names PUNT accounts), and added with their role if not a member yet."""
        person = record.person
        role = record.role if record.role in Membership.Role.values else Membership.Role.MEMBER
        user, how = self._match(person, role)
        if user is None and not person.email and person.username:
            user = self._site_user(username=person.username)
            how = "user name"
            if user is not None:
                self._join(user, role)
        self.cache[person] = user
        if user is None:
            self.report.users_unknown.setdefault(person.label, 0)
        else:
            self.report.users_matched[person.label] = f"{user.username} (by {how})"
