"""PQL against a plain Python reference: 150+ queries over the same fixture tickets.

Each valid query's expected tickets come from a predicate written here over `Ref`, the
test's own description of the fixture (no product code). Both readings of the compiled
plan must give that set: the ORM query (`pql.apply`) and the Python test over
`pql.load_facts` (what live subscriptions and webhook filters use). Queries with ORDER BY
also compare the order. Invalid queries must fail with their message and position.
Runs on whichever database DATABASE_URL names (SQLite by default, PostgreSQL in CI).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from projects.models import Column, Label, Membership, Sprint
from tests.factories import MembershipFactory, ProjectFactory, TicketFactory, UserFactory
from tickets import pql
from tickets.models import Ticket, Watcher

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # a Wednesday
PRIORITIES = ["low", "medium", "high", "urgent"]
CATEGORIES = ["backlog", "todo", "in_progress", "in_review", "done"]
# Column name -> (category, board order) in project PQL; OTH has the default three.
COLUMNS = {
    "To Do": ("todo", 0),
    "In Progress": ("in_progress", 1),
    "Done": ("done", 2),
    "Review": ("in_review", 3),
    "Backlog": ("backlog", 4),
}
SPRINTS = {  # (project, name) -> (status, start date)
    ("PQL", "Sprint 1"): ("closed", date(2026, 2, 1)),
    ("PQL", "Sprint 2"): ("active", date(2026, 3, 1)),
    ("PQL", "Sprint 3"): ("planned", None),
    ("OTH", "Sprint 2"): ("active", date(2026, 3, 2)),
}


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Ref:
    """One fixture ticket as this test sees it."""

    project: str
    number: int
    title: str
    body: str = ""
    type: str = "task"
    column: str = "To Do"
    priority: str = "medium"
    assignee: str | None = None
    reporter: str = "alice"
    watchers: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()
    sprint: str | None = None
    parent: int | None = None  # number in the same project
    estimate: int | None = None
    due: date | None = None
    created: datetime = field(default_factory=lambda: ago(days=30))
    updated: datetime | None = None  # None: as created
    closed: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"

    @property
    def category(self) -> str:
        return COLUMNS[self.column][0]

    @property
    def state(self) -> str:
        return "closed" if self.closed else "opened"

    @property
    def changed(self) -> datetime:
        return self.updated or self.created

    @property
    def sprint_status(self) -> str | None:
        return SPRINTS[(self.project, self.sprint)][0] if self.sprint else None

    def has(self, word: str) -> bool:
        return word.lower() in self.title.lower() or word.lower() in self.body.lower()

    def says(self, text: str) -> bool:
        """Free text and `text ~` (tickets.search): the words of `text` in a row, each the start
        of a word of the title and body (words: letters and digits, ignoring case)."""
        mine = re.findall(r"[^\W_]+", f"{self.title} {self.body}".lower())
        wanted = re.findall(r"[^\W_]+", text.lower())
        return any(
            all(i + k < len(mine) and mine[i + k].startswith(w) for k, w in enumerate(wanted)) for i in range(len(mine))
        )


def fs(*names: str) -> frozenset[str]:
    return frozenset(names)


REFS = [
    Ref(
        "PQL",
        1,
        "Login page crashes on submit",
        "Stack trace: null pointer in auth",
        "bug",
        "In Progress",
        "urgent",
        "alice",
        "bob",
        fs("bob", "carol"),
        fs("backend", "security"),
        "Sprint 2",
        None,
        5,
        date(2026, 3, 5),
        ago(days=30),
        ago(days=1),
    ),
    Ref(
        "PQL",
        2,
        "Work in progress banner",
        "",
        "feature",
        "To Do",
        "low",
        None,
        "alice",
        created=ago(days=20),
        updated=ago(days=10),
    ),
    Ref(
        "PQL",
        3,
        "Epic: checkout redesign",
        "All checkout work",
        "epic",
        "Backlog",
        "high",
        "bob",
        "alice",
        labels=fs("frontend"),
        sprint="Sprint 3",
        estimate=13,
        due=date(2026, 4, 1),
        created=ago(days=50),
    ),
    Ref(
        "PQL",
        4,
        "Checkout button misaligned",
        "login is broken on mobile",
        "bug",
        "Review",
        "high",
        "carol",
        "carol",
        fs("alice"),
        fs("frontend", "mobile"),
        "Sprint 2",
        3,
        2,
        date(2026, 3, 11),
        ago(days=3),
        ago(hours=2),
    ),
    Ref(
        "PQL",
        5,
        "Payment fails",
        "crash when paying",
        "bug",
        "Done",
        "urgent",
        "alice",
        "bob",
        labels=fs("backend"),
        sprint="Sprint 1",
        estimate=8,
        due=date(2026, 2, 20),
        created=ago(days=40),
        updated=ago(days=15),
        closed=ago(days=15),
    ),
    Ref(
        "PQL",
        6,
        "Update docs",
        "Docs for the API",
        "task",
        "Done",
        "low",
        None,
        "dave",
        labels=fs("docs"),
        sprint="Sprint 1",
        estimate=1,
        created=ago(days=60),
        updated=ago(days=25),
        closed=ago(days=25),
    ),
    Ref(
        "PQL",
        7,
        "Story: user profile",
        "",
        "story",
        "To Do",
        "medium",
        "bob",
        "alice",
        fs("alice", "bob", "carol", "dave"),
        fs("frontend", "backend", "docs"),
        "Sprint 2",
        3,
        3,
        date(2026, 3, 15),
        ago(days=7, hours=1),
        ago(days=6),
    ),
    Ref(
        "PQL",
        8,
        "Subtask of profile",
        "",
        "subtask",
        "In Progress",
        "medium",
        "carol",
        parent=7,
        estimate=0,
        due=date(2026, 3, 9),
        created=ago(days=6),
        updated=ago(days=5),
    ),
    Ref(
        "PQL",
        9,
        "Mobile crash on login",
        "Crash",
        "bug",
        "To Do",
        "high",
        "dave",
        "carol",
        labels=fs("mobile"),
        created=at(10, 10),
        updated=at(10, 23, 30),
    ),
    Ref(
        "PQL",
        10,
        "Refactor auth",
        "",
        "task",
        "Backlog",
        "low",
        "alice",
        labels=fs("backend", "security"),
        sprint="Sprint 3",
        estimate=20,
        due=date(2026, 3, 16),
        created=at(9),
        updated=at(11, 11),
    ),
    Ref(
        "PQL",
        11,
        "Closed without done",
        "wontfix",
        "bug",
        "To Do",
        "medium",
        "bob",
        created=ago(days=14),
        updated=at(10, 8),
        closed=at(10, 8),
    ),
    Ref(
        "PQL",
        12,
        "Percent 100% sure_thing",
        "under_score and 50%",
        "task",
        "To Do",
        "medium",
        estimate=5,
        created=ago(days=2),
    ),
    Ref(
        "PQL",
        13,
        "Progress report",
        "in progress",
        "feature",
        "In Progress",
        "high",
        "alice",
        "dave",
        fs("dave"),
        fs("docs"),
        "Sprint 2",
        estimate=3,
        due=date(2026, 3, 10),
        created=ago(days=1),
    ),
    Ref(
        "PQL",
        14,
        "Null pointer exception",
        "NOT reproducible",
        "bug",
        "Review",
        "low",
        "carol",
        watchers=fs("bob"),
        labels=fs("backend"),
        parent=1,
        estimate=2,
        due=date(2026, 3, 12),
        created=ago(days=10),
        updated=ago(days=3),
    ),
    Ref(
        "PQL",
        15,
        "Order by date broken",
        "sorting is empty",
        "bug",
        "Done",
        "medium",
        "dave",
        labels=fs("frontend"),
        sprint="Sprint 1",
        estimate=5,
        due=date(2026, 3, 1),
        created=ago(days=5),
        updated=ago(days=1, hours=1),
        closed=ago(days=1, hours=1),
    ),
    Ref(
        "OTH",
        1,
        "Login crash in other project",
        "",
        "bug",
        "To Do",
        "urgent",
        "alice",
        labels=fs("backend"),
        sprint="Sprint 2",
        estimate=3,
        created=ago(days=4),
    ),
    Ref(
        "OTH",
        2,
        "Other docs",
        "",
        "task",
        "Done",
        "low",
        "carol",
        labels=fs("other"),
        created=ago(days=9),
        closed=ago(days=2),
    ),
    Ref("OTH", 3, "Other epic", "Parent of nothing", "epic", "In Progress", "high", parent=None, created=ago(days=8)),
]
BY_KEY = {ref.key: ref for ref in REFS}


@dataclass
class World:
    users: dict[str, Any]
    projects: dict[str, Any]
    ids: dict[str, int]  # ref key -> ticket id
    keys: dict[int, str]


@pytest.fixture
def world(db) -> World:
    users: dict[str, Any] = {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave")}
    UserFactory(username="gone", is_active=False)
    projects: dict[str, Any] = {
        "PQL": ProjectFactory(owner_user=users["alice"], name="Query", key="PQL"),
        "OTH": ProjectFactory(owner_user=users["alice"], name="Other", key="OTH"),
    }
    for name in ("bob", "carol", "dave"):
        MembershipFactory(project=projects["PQL"], user=users[name], role=Membership.Role.MEMBER)
    MembershipFactory(project=projects["OTH"], user=users["carol"], role=Membership.Role.MEMBER)
    columns: dict[tuple[str, str], Column] = {}
    for key, project in projects.items():
        for column in project.columns.all():
            columns[(key, column.name)] = column
    for name in ("Review", "Backlog"):
        category, order = COLUMNS[name]
        columns[("PQL", name)] = Column.objects.create(
            project=projects["PQL"], name=name, category=category, order=order
        )
    labels = {
        (key, name): Label.objects.create(project=projects[key], name=name.title(), color="#EF4444")
        for key, names in {
            "PQL": ("backend", "frontend", "mobile", "security", "docs"),
            "OTH": ("backend", "other"),
        }.items()
        for name in names
    }
    sprints = {
        (key, name): Sprint.objects.create(project=projects[key], name=name, status=status, start_date=start)
        for (key, name), (status, start) in SPRINTS.items()
    }
    ids: dict[str, int] = {}
    for ref in REFS:
        ticket: Any = TicketFactory(
            project=projects[ref.project],
            title=ref.title,
            body=ref.body,
            type=ref.type,
            column=columns[(ref.project, ref.column)],
            priority=ref.priority,
            assignee=users.get(ref.assignee or ""),
            reporter=users[ref.reporter],
            sprint=sprints.get((ref.project, ref.sprint or "")),
            parent_id=ids.get(f"{ref.project}-{ref.parent}"),
            estimate=ref.estimate,
            due_date=ref.due,
            state=ref.state,
        )
        assert ticket.number == ref.number
        ticket.labels.set([labels[(ref.project, name)] for name in ref.labels])
        for name in ref.watchers:
            Watcher.objects.create(ticket=ticket, user=users[name])
        Ticket.objects.filter(pk=ticket.pk).update(created_at=ref.created, updated_at=ref.changed, closed_at=ref.closed)
        ids[ref.key] = ticket.pk
    return World(users, projects, ids, {pk: key for key, pk in ids.items()})


def scope_for(world: World, where: str, user: str | None = "alice") -> pql.Scope:
    person = world.users[user] if user else AnonymousUser()
    scope = pql.user_scope(person) if where == "all" else pql.project_scope(world.projects[where], person)
    scope.now = NOW
    return scope


def run(world: World, text: str, scope: pql.Scope) -> tuple[list[str], set[str]]:
    """The tickets the ORM reading returns (in order) and those the Python reading accepts."""
    compiled = pql.compile_query(text, scope)
    base = Ticket.objects.filter(project_id__in=scope.project_ids)
    found = [world.keys[pk] for pk in pql.apply(base, compiled).values_list("pk", flat=True)]
    facts = pql.load_facts(base.values_list("pk", flat=True))
    tested = {world.keys[pk] for pk, one in facts.items() if compiled.test(one)}
    return found, tested


Pred = Callable[[Ref], bool]


def pri(ref: Ref) -> int:
    return PRIORITIES.index(ref.priority)


def cat(ref: Ref) -> int:
    return CATEGORIES.index(ref.category)


D = date
# (query, predicate); queries run in project PQL as alice unless they start with "@all ".
FILTERS: list[tuple[str, Pred]] = [
    # everything
    ("", lambda r: True),
    # key / number
    ("key = PQL-3", lambda r: r.key == "PQL-3"),
    ("key = pql-3", lambda r: r.key == "PQL-3"),
    ("key = 3", lambda r: r.key == "PQL-3"),
    ("key = #3", lambda r: r.key == "PQL-3"),
    ("key != PQL-3", lambda r: r.key != "PQL-3"),
    ("key > PQL-12", lambda r: r.number > 12),
    ("key <= PQL-2", lambda r: r.number <= 2),
    ("key IN (PQL-1, PQL-2, 15)", lambda r: r.number in (1, 2, 15)),
    ("key NOT IN (PQL-1, PQL-2)", lambda r: r.number not in (1, 2)),
    ("key IS EMPTY", lambda r: False),
    ("key IS NOT EMPTY", lambda r: True),
    ("number = 4", lambda r: r.number == 4),
    ("number != 4", lambda r: r.number != 4),
    ("number >= 13", lambda r: r.number >= 13),
    ("number < 3", lambda r: r.number < 3),
    ("number IN (1, 5, 99)", lambda r: r.number in (1, 5)),
    ("number NOT IN (1, 5)", lambda r: r.number not in (1, 5)),
    # title / summary / body / text
    ("title ~ login", lambda r: "login" in r.title.lower()),
    ("summary ~ LOGIN", lambda r: "login" in r.title.lower()),
    ("title !~ login", lambda r: "login" not in r.title.lower()),
    ('title = "payment FAILS"', lambda r: r.title.lower() == "payment fails"),
    ('title != "Payment fails"', lambda r: r.title != "Payment fails"),
    ('title IN ("Update docs", "refactor auth")', lambda r: r.title in ("Update docs", "Refactor auth")),
    ('title NOT IN ("Update docs")', lambda r: r.title != "Update docs"),
    ("title ~ '100%'", lambda r: "100%" in r.title),
    ("title ~ sure_thing", lambda r: "sure_thing" in r.title),
    ("title ~ e_t", lambda r: "e_t" in r.title),
    ("title IS EMPTY", lambda r: False),
    ("body ~ crash", lambda r: "crash" in r.body.lower()),
    ("body IS EMPTY", lambda r: r.body == ""),
    ("body IS NOT EMPTY", lambda r: r.body != ""),
    ("body !~ 'in'", lambda r: "in" not in r.body.lower()),
    ('body = "wontfix"', lambda r: r.body == "wontfix"),
    ("body ~ '50%'", lambda r: "50%" in r.body),
    ("description ~ docs", lambda r: "docs" in r.body.lower()),
    ("text ~ crash", lambda r: r.says("crash")),
    ("text !~ crash", lambda r: not r.says("crash")),
    ("text ~ 'null pointer'", lambda r: r.says("null pointer")),
    # free text
    ("crash", lambda r: r.says("crash")),
    ("login crash", lambda r: r.says("login") and r.says("crash")),
    ("LOGIN", lambda r: r.says("login")),
    ('"null pointer"', lambda r: r.says("null pointer")),
    ("work in progress", lambda r: r.says("work") and r.says("in") and r.says("progress")),
    ("login is broken", lambda r: r.says("login") and r.says("is") and r.says("broken")),
    ("not reproducible", lambda r: not r.says("reproducible")),
    ('"not reproducible"', lambda r: r.says("not reproducible")),
    ("order", lambda r: r.says("order")),
    ("crashe", lambda r: r.says("crashe")),
    ("rash", lambda r: r.says("rash")),
    ("text ~ poin", lambda r: r.says("poin")),
    ("text ~ ointer", lambda r: r.says("ointer")),
    ("PQL-5", lambda r: r.says("PQL-5") or r.key == "PQL-5"),
    ("9", lambda r: r.says("9") or r.number == 9),
    ("#12", lambda r: r.says("#12") or r.number == 12),
    ("crash type = bug", lambda r: r.says("crash") and r.type == "bug"),
    ("crash OR docs", lambda r: r.says("crash") or r.says("docs")),
    # type
    ("type = bug", lambda r: r.type == "bug"),
    ("TYPE = BUG", lambda r: r.type == "bug"),
    ("type != bug", lambda r: r.type != "bug"),
    ("type IN (story, epic, subtask)", lambda r: r.type in ("story", "epic", "subtask")),
    ("type NOT IN (bug, task)", lambda r: r.type not in ("bug", "task")),
    ("type IS EMPTY", lambda r: False),
    ("type IS NOT EMPTY", lambda r: True),
    # status (column category), ordered by the flow
    ("status = done", lambda r: r.category == "done"),
    ('status = "In progress"', lambda r: r.category == "in_progress"),
    ("status = in-review", lambda r: r.category == "in_review"),
    ('status = "to do"', lambda r: r.category == "todo"),
    ("status != done", lambda r: r.category != "done"),
    ("status < in_progress", lambda r: cat(r) < 2),
    ("status >= in_review", lambda r: cat(r) >= 3),
    ("status > backlog", lambda r: cat(r) > 0),
    ("status <= todo", lambda r: cat(r) <= 1),
    ("status IN (backlog, done)", lambda r: r.category in ("backlog", "done")),
    ("status NOT IN (backlog, done)", lambda r: r.category not in ("backlog", "done")),
    ("NOT status = done", lambda r: r.category != "done"),
    # column
    ('column = "In Progress"', lambda r: r.column == "In Progress"),
    ("column = review", lambda r: r.column == "Review"),
    ('column != "To Do"', lambda r: r.column != "To Do"),
    ('column IN ("to do", Backlog)', lambda r: r.column in ("To Do", "Backlog")),
    ("column NOT IN (Done, Review)", lambda r: r.column not in ("Done", "Review")),
    ("column IS EMPTY", lambda r: False),
    ("column IS NOT EMPTY", lambda r: True),
    # priority, ordered low < medium < high < urgent
    ("priority = high", lambda r: r.priority == "high"),
    ("priority != high", lambda r: r.priority != "high"),
    ("priority > medium", lambda r: pri(r) > 1),
    ("priority >= high", lambda r: pri(r) >= 2),
    ("priority < high", lambda r: pri(r) < 2),
    ("priority <= low", lambda r: pri(r) <= 0),
    ("priority > urgent", lambda r: False),
    ("priority IN (low, urgent)", lambda r: r.priority in ("low", "urgent")),
    ("priority NOT IN (low, urgent)", lambda r: r.priority not in ("low", "urgent")),
    ("Priority = URGENT", lambda r: r.priority == "urgent"),
    # assignee, reporter: NULL semantics
    ("assignee = alice", lambda r: r.assignee == "alice"),
    ("assignee = ALICE", lambda r: r.assignee == "alice"),
    ("assignee = me()", lambda r: r.assignee == "alice"),
    # A deactivated account is still a name: its old tickets stay findable.
    ("assignee = gone", lambda r: r.assignee == "gone"),
    ("assignee = currentUser()", lambda r: r.assignee == "alice"),
    ("assignee != alice", lambda r: r.assignee is not None and r.assignee != "alice"),
    ("NOT assignee = alice", lambda r: r.assignee != "alice"),
    ("assignee IS EMPTY", lambda r: r.assignee is None),
    ("assignee IS NULL", lambda r: r.assignee is None),
    ("assignee IS NOT EMPTY", lambda r: r.assignee is not None),
    ("assignee IN (bob, carol)", lambda r: r.assignee in ("bob", "carol")),
    ("assignee NOT IN (bob, carol)", lambda r: r.assignee is not None and r.assignee not in ("bob", "carol")),
    ("NOT assignee IN (bob, carol)", lambda r: r.assignee not in ("bob", "carol")),
    ("assignee IN (me(), dave)", lambda r: r.assignee in ("alice", "dave")),
    ("assignee != me() OR assignee IS EMPTY", lambda r: r.assignee != "alice"),
    ("reporter = carol", lambda r: r.reporter == "carol"),
    ("reporter != alice", lambda r: r.reporter != "alice"),
    ("reporter IN (bob, dave)", lambda r: r.reporter in ("bob", "dave")),
    ("reporter = me() AND assignee != me()", lambda r: r.reporter == "alice" and r.assignee not in (None, "alice")),
    ("reporter IS EMPTY", lambda r: False),
    # watcher
    ("watcher = bob", lambda r: "bob" in r.watchers),
    ("watchers = me()", lambda r: "alice" in r.watchers),
    ("watcher != bob", lambda r: "bob" not in r.watchers),
    ("watcher IN (alice, dave)", lambda r: bool(r.watchers & {"alice", "dave"})),
    ("watcher NOT IN (alice, dave)", lambda r: not r.watchers & {"alice", "dave"}),
    ("watcher IS EMPTY", lambda r: not r.watchers),
    ("watcher IS NOT EMPTY", lambda r: bool(r.watchers)),
    ("watcher = bob AND watcher = carol", lambda r: {"bob", "carol"} <= r.watchers),
    # labels / label
    ("label = backend", lambda r: "backend" in r.labels),
    ("labels = BACKEND", lambda r: "backend" in r.labels),
    ("label != backend", lambda r: "backend" not in r.labels),
    ("NOT label = backend", lambda r: "backend" not in r.labels),
    ("label IN (mobile, docs)", lambda r: bool(r.labels & {"mobile", "docs"})),
    ("label NOT IN (mobile, docs)", lambda r: not r.labels & {"mobile", "docs"}),
    ("labels IS EMPTY", lambda r: not r.labels),
    ("labels IS NOT EMPTY", lambda r: bool(r.labels)),
    ("label = backend label = security", lambda r: {"backend", "security"} <= r.labels),
    ("label = frontend OR label = mobile", lambda r: bool(r.labels & {"frontend", "mobile"})),
    # sprint
    ('sprint = "Sprint 2"', lambda r: r.sprint == "Sprint 2"),
    ('sprint = "sprint 1"', lambda r: r.sprint == "Sprint 1"),
    ("sprint = openSprint()", lambda r: r.sprint_status == "active"),
    ("sprint = closedSprints()", lambda r: r.sprint_status == "closed"),
    ("sprint IN (openSprint(), closedSprints())", lambda r: r.sprint_status in ("active", "closed")),
    ("sprint != openSprint()", lambda r: r.sprint is not None and r.sprint_status != "active"),
    ("NOT sprint = openSprint()", lambda r: r.sprint_status != "active"),
    ('sprint NOT IN ("Sprint 1", "Sprint 3")', lambda r: r.sprint not in (None, "Sprint 1", "Sprint 3")),
    ("sprint IS EMPTY", lambda r: r.sprint is None),
    ("sprint IS NOT EMPTY", lambda r: r.sprint is not None),
    # parent
    ("parent = PQL-3", lambda r: r.parent == 3),
    ("parent = 7", lambda r: r.parent == 7),
    ("parent IN (PQL-1, PQL-7)", lambda r: r.parent in (1, 7)),
    ("parent != PQL-3", lambda r: r.parent is not None and r.parent != 3),
    ("epic = PQL-3", lambda r: r.parent == 3),
    ("parent IS EMPTY", lambda r: r.parent is None),
    ("parent IS NOT EMPTY", lambda r: r.parent is not None),
    # estimate / points
    ("points = 3", lambda r: r.estimate == 3),
    ("estimate = 0", lambda r: r.estimate == 0),
    ("estimate != 3", lambda r: r.estimate is not None and r.estimate != 3),
    ("NOT estimate = 3", lambda r: r.estimate != 3),
    ("points > 5", lambda r: r.estimate is not None and r.estimate > 5),
    ("points >= 5", lambda r: r.estimate is not None and r.estimate >= 5),
    ("estimate < 3", lambda r: r.estimate is not None and r.estimate < 3),
    ("estimate <= 0", lambda r: r.estimate is not None and r.estimate <= 0),
    ("estimate IN (1, 2, 13)", lambda r: r.estimate in (1, 2, 13)),
    ("estimate NOT IN (3, 5)", lambda r: r.estimate is not None and r.estimate not in (3, 5)),
    ("estimate IS EMPTY", lambda r: r.estimate is None),
    ("points IS NOT EMPTY", lambda r: r.estimate is not None),
    # due (a date)
    ("due = 2026-03-11", lambda r: r.due == D(2026, 3, 11)),
    ("due != 2026-03-11", lambda r: r.due is not None and r.due != D(2026, 3, 11)),
    ("due < 2026-03-10", lambda r: r.due is not None and r.due < D(2026, 3, 10)),
    ("due <= 2026-03-10", lambda r: r.due is not None and r.due <= D(2026, 3, 10)),
    ("due > 2026-03-12", lambda r: r.due is not None and r.due > D(2026, 3, 12)),
    ("due >= 2026-03-12", lambda r: r.due is not None and r.due >= D(2026, 3, 12)),
    ("due = today()", lambda r: r.due == D(2026, 3, 11)),
    ("due < today()", lambda r: r.due is not None and r.due < D(2026, 3, 11)),
    (
        "due >= startOfWeek() AND due <= endOfWeek()",
        lambda r: r.due is not None and D(2026, 3, 9) <= r.due <= D(2026, 3, 15),
    ),
    ("due > endOfWeek()", lambda r: r.due is not None and r.due > D(2026, 3, 15)),
    ("due = startOfWeek()", lambda r: r.due == D(2026, 3, 9)),
    ("due < -7d", lambda r: r.due is not None and r.due < D(2026, 3, 4)),
    ("due <= +1d", lambda r: r.due is not None and r.due <= D(2026, 3, 12)),
    ("due = +1w", lambda r: r.due == D(2026, 3, 18)),
    ("due > -1m", lambda r: r.due is not None and r.due > D(2026, 2, 9)),
    ("due IN (2026-03-05, 2026-03-09)", lambda r: r.due in (D(2026, 3, 5), D(2026, 3, 9))),
    (
        "due NOT IN (2026-03-05, 2026-03-09)",
        lambda r: r.due is not None and r.due not in (D(2026, 3, 5), D(2026, 3, 9)),
    ),
    ("duedate IS EMPTY", lambda r: r.due is None),
    ("due IS NOT EMPTY", lambda r: r.due is not None),
    # created / updated / closed (moments; a day covers the whole day)
    ("created > -7d", lambda r: r.created > NOW - timedelta(days=7)),
    ("created >= -7d", lambda r: r.created >= NOW - timedelta(days=7)),
    ("created < -7d", lambda r: r.created < NOW - timedelta(days=7)),
    ("created = -7d", lambda r: r.created >= NOW - timedelta(days=7)),
    ("created >= -2w", lambda r: r.created >= NOW - timedelta(days=14)),
    ("created < -1m", lambda r: r.created < NOW - timedelta(days=30)),
    ("created = 2026-03-10", lambda r: r.created.date() == D(2026, 3, 10)),
    ("created != 2026-03-10", lambda r: r.created.date() != D(2026, 3, 10)),
    ("created > 2026-03-09", lambda r: r.created.date() > D(2026, 3, 9)),
    ("created >= 2026-03-09", lambda r: r.created.date() >= D(2026, 3, 9)),
    ("created < 2026-03-09", lambda r: r.created.date() < D(2026, 3, 9)),
    ("created <= 2026-03-09", lambda r: r.created.date() <= D(2026, 3, 9)),
    ("created >= startOfWeek()", lambda r: r.created >= datetime(2026, 3, 9, tzinfo=UTC)),
    ("created = today()", lambda r: r.created.date() == D(2026, 3, 11)),
    ("created IN (2026-03-09, 2026-03-10)", lambda r: r.created.date() in (D(2026, 3, 9), D(2026, 3, 10))),
    ("updated > -1d", lambda r: r.changed > NOW - timedelta(days=1)),
    ("updated < -2w", lambda r: r.changed < NOW - timedelta(days=14)),
    ("updated = 2026-03-10", lambda r: r.changed.date() == D(2026, 3, 10)),
    ("closed IS EMPTY", lambda r: r.closed is None),
    ("closed IS NOT EMPTY", lambda r: r.closed is not None),
    ("closed > -7d", lambda r: r.closed is not None and r.closed > NOW - timedelta(days=7)),
    ("closed = 2026-03-10", lambda r: r.closed is not None and r.closed.date() == D(2026, 3, 10)),
    ("closed != 2026-03-10", lambda r: r.closed is not None and r.closed.date() != D(2026, 3, 10)),
    ("closed < -20d", lambda r: r.closed is not None and r.closed < NOW - timedelta(days=20)),
    # state
    ("state = open", lambda r: r.state == "opened"),
    ("state = opened", lambda r: r.state == "opened"),
    ("state = CLOSED", lambda r: r.state == "closed"),
    ("state != closed", lambda r: r.state != "closed"),
    ("state IN (open, closed)", lambda r: True),
    ("state = closed AND status != done", lambda r: r.state == "closed" and r.category != "done"),
    # project (single project)
    ("project = PQL", lambda r: True),
    ("project = pql", lambda r: True),
    ("project != PQL", lambda r: False),
    # combinations, precedence, NOT, parentheses
    ("type = bug AND priority >= high", lambda r: r.type == "bug" and pri(r) >= 2),
    ("type = bug priority >= high", lambda r: r.type == "bug" and pri(r) >= 2),
    (
        "type = bug OR type = story AND priority = medium",
        lambda r: r.type == "bug" or (r.type == "story" and r.priority == "medium"),
    ),
    (
        "(type = bug OR type = story) AND priority = medium",
        lambda r: r.type in ("bug", "story") and r.priority == "medium",
    ),
    ("NOT (type = bug OR type = task)", lambda r: r.type not in ("bug", "task")),
    ("NOT type = bug AND NOT priority = low", lambda r: r.type != "bug" and r.priority != "low"),
    ("NOT NOT assignee = alice", lambda r: r.assignee == "alice"),
    ("NOT (assignee = alice OR assignee IS EMPTY)", lambda r: r.assignee not in ("alice", None)),
    (
        "assignee = me() AND priority >= high AND status != done",
        lambda r: r.assignee == "alice" and pri(r) >= 2 and r.category != "done",
    ),
    (
        "(label = backend OR watcher = bob) AND state = open",
        lambda r: ("backend" in r.labels or "bob" in r.watchers) and r.state == "opened",
    ),
    (
        "sprint = openSprint() AND (estimate IS EMPTY OR estimate < 3)",
        lambda r: r.sprint_status == "active" and (r.estimate is None or r.estimate < 3),
    ),
    ("parent = PQL-3 OR key = PQL-3", lambda r: r.parent == 3 or r.key == "PQL-3"),
    ("due < today() AND state = open", lambda r: r.due is not None and r.due < D(2026, 3, 11) and r.state == "opened"),
    ("NOT (due IS EMPTY) AND NOT (sprint IS EMPTY)", lambda r: r.due is not None and r.sprint is not None),
    (
        "created > -7d OR updated > -1d",
        lambda r: r.created > NOW - timedelta(days=7) or r.changed > NOW - timedelta(days=1),
    ),
    # cross-project (alice sees PQL and OTH)
    ("@all label = backend", lambda r: "backend" in r.labels),
    ("@all project = OTH", lambda r: r.project == "OTH"),
    ("@all project IN (oth, PQL)", lambda r: True),
    ("@all project != OTH", lambda r: r.project != "OTH"),
    ("@all key = OTH-1", lambda r: r.key == "OTH-1"),
    ("@all key IN (OTH-2, PQL-2)", lambda r: r.key in ("OTH-2", "PQL-2")),
    ("@all key != OTH-1", lambda r: r.key != "OTH-1"),
    ("@all key > OTH-1", lambda r: r.project == "OTH" and r.number > 1),
    ('@all sprint = "Sprint 2"', lambda r: r.sprint == "Sprint 2"),
    ("@all sprint = openSprint()", lambda r: r.sprint_status == "active"),
    ("@all login crash", lambda r: r.says("login") and r.says("crash")),
    ("@all OTH-3", lambda r: r.key == "OTH-3"),
    ("@all status = done", lambda r: r.category == "done"),
    ('@all column = "To Do"', lambda r: r.column == "To Do"),
    ("@all assignee = carol project = OTH", lambda r: r.assignee == "carol" and r.project == "OTH"),
    ("@all label = other", lambda r: "other" in r.labels),
]


def _split(text: str) -> tuple[str, str]:
    return ("all", text.removeprefix("@all ")) if text.startswith("@all ") else ("PQL", text)


def visible(where: str) -> list[Ref]:
    return [ref for ref in REFS if where == "all" or ref.project == where]


@pytest.mark.parametrize(("text", "predicate"), FILTERS, ids=[text or "(empty)" for text, _ in FILTERS])
def test_filter(world, text, predicate):
    where, query = _split(text)
    found, tested = run(world, query, scope_for(world, where))
    expected = {ref.key for ref in visible(where) if predicate(ref)}
    assert set(found) == expected, "ORM reading"
    assert len(found) == len(set(found)), "no ticket twice"
    assert tested == expected, "Python reading"


def nulls_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


# (query, predicate, sort keys: [(key of a Ref, descending)]); ties go by creation (id).
ORDERED: list[tuple[str, Pred, list[tuple[Callable[[Ref], Any], bool]]]] = [
    ("ORDER BY priority DESC", lambda r: True, [(pri, True)]),
    ("ORDER BY priority", lambda r: True, [(pri, False)]),
    (
        "type = bug ORDER BY priority DESC, created ASC",
        lambda r: r.type == "bug",
        [(pri, True), (lambda r: r.created, False)],
    ),
    ("ORDER BY status, key DESC", lambda r: True, [(cat, False), (lambda r: r.number, True)]),
    ("ORDER BY column", lambda r: True, [(lambda r: COLUMNS[r.column][1], False)]),
    ("ORDER BY updated DESC", lambda r: True, [(lambda r: r.changed, True)]),
    ("ORDER BY created", lambda r: True, [(lambda r: r.created, False)]),
    ("ORDER BY due", lambda r: True, [(lambda r: r.due, False)]),
    ("ORDER BY due DESC", lambda r: True, [(lambda r: r.due, True)]),
    ("ORDER BY estimate DESC, number", lambda r: True, [(lambda r: r.estimate, True), (lambda r: r.number, False)]),
    ("ORDER BY points", lambda r: True, [(lambda r: r.estimate, False)]),
    ("ORDER BY assignee, priority DESC", lambda r: True, [(lambda r: r.assignee, False), (pri, True)]),
    ("ORDER BY reporter DESC", lambda r: True, [(lambda r: r.reporter, True)]),
    ("ORDER BY closed DESC", lambda r: True, [(lambda r: r.closed, True)]),
    ("ORDER BY sprint", lambda r: True, [(lambda r: SPRINTS[(r.project, r.sprint)][1] if r.sprint else None, False)]),
    ("ORDER BY parent DESC", lambda r: True, [(lambda r: r.parent, True)]),
    ("type = bug ORDER BY title", lambda r: r.type == "bug", [(lambda r: r.title, False)]),
    ("ORDER BY summary DESC", lambda r: r.type == "bug", [(lambda r: r.title, True)]),
    ("ORDER BY type", lambda r: True, [(lambda r: r.type, False)]),
    ("ORDER BY state, number DESC", lambda r: True, [(lambda r: r.state, False), (lambda r: r.number, True)]),
    ("label = backend ORDER BY key", lambda r: "backend" in r.labels, [(lambda r: r.number, False)]),
    ("@all ORDER BY project DESC, number", lambda r: True, [(lambda r: r.project, True), (lambda r: r.number, False)]),
    ("@all ORDER BY key DESC", lambda r: True, [(lambda r: (r.project == "OTH", r.number), True)]),
]


def reference_order(refs: list[Ref], keys: list[tuple[Callable[[Ref], Any], bool]]) -> list[str]:
    """Sorted by `keys`, empty values last in either direction, ties in creation order."""
    ordered = list(refs)
    for key, descending in reversed(keys):
        filled = [ref for ref in ordered if key(ref) is not None]
        empty = [ref for ref in ordered if key(ref) is None]
        ordered = sorted(filled, key=key, reverse=descending) + empty
    return [ref.key for ref in ordered]


@pytest.mark.parametrize(("text", "predicate", "keys"), ORDERED, ids=[text for text, *_ in ORDERED])
def test_order(world, text, predicate, keys):
    where, query = _split(text)
    if text == "ORDER BY summary DESC":
        query = "type = bug " + query
    found, tested = run(world, query, scope_for(world, where))
    refs = [ref for ref in visible(where) if predicate(ref)]
    assert found == reference_order(refs, keys)
    assert tested == {ref.key for ref in refs}


# (query, who asks, message fragment, position); "@all " runs across alice's projects.
ERRORS: list[tuple[str, str | None, str, int]] = [
    ("priorty = high", "alice", "Unknown field 'priorty' at 0: did you mean 'priority'?", 0),
    ("type = bug AND asignee = bob", "alice", "Unknown field 'asignee' at 15: did you mean 'assignee'?", 15),
    ("colour = red", "alice", "Unknown field 'colour' at 0", 0),
    ("ORDER BY priorty", "alice", "Unknown field 'priorty' at 9: did you mean 'priority'?", 9),
    ("assignee = zoe", "alice", "Unknown user 'zoe' at 11", 11),
    ("reporter IN (bob, zoe)", "alice", "Unknown user 'zoe' at 18", 18),
    ("watcher = nobody", "alice", "Unknown user 'nobody' at 10", 10),
    ("label = backnd", "alice", "Unknown label 'backnd' at 8: did you mean 'backend'?", 8),
    ("label = other", "alice", "Unknown label 'other' at 8", 8),
    ('sprint = "Sprint 9"', "alice", "Unknown sprint 'Sprint 9' at 9", 9),
    ("column = Doing", "alice", "Unknown column 'Doing' at 9", 9),
    ("project = NOPE", "alice", "Unknown project 'NOPE' at 10", 10),
    ("project = OTH", "bob", "Unknown project 'OTH' at 10", 10),
    ("@all project = OTH", "bob", "Unknown project 'OTH' at 10", 10),
    ("key = NOPE-1", "alice", "Unknown project key 'NOPE' at 6", 6),
    ("@all key = 3", "alice", "Expected a ticket key (DEMO-42) but found '3' at 6", 6),
    ("parent = PQL-99", "alice", "Unknown ticket 'PQL-99' at 9", 9),
    ("type = bugg", "alice", "Unknown type 'bugg' at 7: did you mean 'bug'?", 7),
    ("priority >= hihg", "alice", "Unknown priority 'hihg' at 12: did you mean 'high'?", 12),
    ("status = finished", "alice", "Unknown status 'finished' at 9", 9),
    ("state = pending", "alice", "Unknown state 'pending' at 8", 8),
    ("type > bug", "alice", "'>' does not apply to type at 0; use =, !=", 0),
    ("assignee ~ al", "alice", "'~' does not apply to assignee at 0", 0),
    ("label > backend", "alice", "'>' does not apply to labels at 0", 0),
    ("text = crash", "alice", "'=' does not apply to text at 0; use ~, !~", 0),
    ("priority ~ high", "alice", "'~' does not apply to priority at 0", 0),
    ("estimate ~ 3", "alice", "'~' does not apply to estimate at 0", 0),
    ("rank = 3", "alice", "rank is for ORDER BY only at 0", 0),
    ("ORDER BY watcher", "alice", "Cannot order by watcher at 9", 9),
    ("ORDER BY text", "alice", "Cannot order by text at 9", 9),
    ("due = tomorrow", "alice", "Expected a date (2026-12-31, -7d, today()) but found 'tomorrow' at 6", 6),
    ("created > 2026-02-30", "alice", "Expected a date", 10),
    ("updated < -7x", "alice", "Expected a date", 10),
    ("estimate = three", "alice", "Expected a number for estimate but found 'three' at 11", 11),
    ("number > 1.5", "alice", "Expected a number for number but found '1.5' at 9", 9),
    ("estimate = me()", "alice", "Expected estimate but found me() at 11", 11),
    ("assignee = me()", None, "me() needs a signed-in user at 11", 11),
    ("watcher = currentUser()", None, "me() needs a signed-in user at 10", 10),
    ("assignee = you()", "alice", "Unknown function 'you()' at 11", 11),
    ("sprint = openSprints()", "alice", "Unknown function 'openSprints()' at 9: did you mean 'openSprint'?", 9),
    ("due = now()", "alice", "Unknown function 'now()' at 6", 6),
    ("due = openSprint()", "alice", "Unknown function 'openSprint()' at 6", 6),
    ("assignee = me(bob)", "alice", "me() takes no arguments at 11", 11),
    ("title ~ f()", "alice", "Expected text but found f() at 8", 8),
    ("assignee = alice OR", "alice", "Expected a field or text or '(' but found the end of the query at 19", 19),
    ("(type = bug", "alice", "Expected ')' but found the end of the query at 11", 11),
    ('title = "open', "alice", "Unterminated string starting at 8", 8),
    ("number IN (" + ", ".join(str(n) for n in range(101)) + ")", "alice", "At most 100 values in a list at 0", 0),
]


@pytest.mark.parametrize(("text", "user", "message", "position"), ERRORS, ids=[text[:40] for text, *_ in ERRORS])
def test_error(world, text, user, message, position):
    where, query = _split(text)
    with pytest.raises(pql.PqlError) as caught:
        pql.compile_query(query, scope_for(world, where, user))
    assert message in caught.value.message
    assert caught.value.position == position
    assert caught.value.details[0]["position"] == position


def test_table_size():
    assert len(FILTERS) + len(ORDERED) + len(ERRORS) >= 150
