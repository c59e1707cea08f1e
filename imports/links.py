"""An import's ticket links: written in bulk once every ticket exists, normalised (a source may
list a link from both ends) and checked as the relation service does."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import User
from imports.records import (
    BATCH,
)
from imports.report import Report
from projects.models import Project
from tickets.models import (
    Ticket,
    TicketRelation,
)
from tickets.services.relations import KINDS, blocks_would_cycle

# Each kind a source names, as (stored kind, whether the ticket naming it is the source): the
# relation service's, and the short names sources use for the inverse kinds.
LINK_KINDS: dict[str, tuple[str, bool]] = {
    **{kind: (str(stored), forward) for kind, (stored, forward) in KINDS.items()},
    "blocked_by": (str(KINDS["is_blocked_by"][0]), False),
    "duplicated_by": (str(KINDS["is_duplicated_by"][0]), False),
}


class _Blocks:
    """The blocks graph for the cycle check while links are added in bulk: the project's
    tickets' blocks links read once, other tickets' (a chain may cross projects) when the check
    reaches them, and the links this import adds as it goes."""

    def __init__(self, project: Project) -> None:
        self.next: dict[int, set[int]] = {}
        self.read: set[int] = set(Ticket.objects.filter(project=project).values_list("pk", flat=True))
        for source, target in TicketRelation.objects.filter(
            kind=TicketRelation.Kind.BLOCKS, source__project=project
        ).values_list("source_id", "target_id"):
            self.next.setdefault(source, set()).add(target)

    def successors(self, frontier: set[int]) -> set[int]:
        unread = frontier - self.read
        if unread:
            for source, target in TicketRelation.objects.filter(
                kind=TicketRelation.Kind.BLOCKS, source_id__in=unread
            ).values_list("source_id", "target_id"):
                self.next.setdefault(source, set()).add(target)
            self.read |= unread
        return {target for node in frontier for target in self.next.get(node, ())}

    def add(self, source: int, target: int) -> None:
        self.next.setdefault(source, set()).add(target)


def apply_links(*, project: Project, by: User, links: list[tuple[int, str, int | None, str]], report: Report) -> None:
    """Relations between tickets, once all are written: [(ticket id, kind, other ticket id or
    None when not in the file or project, other's source id)].

    Normalised as the relation service stores them (Jira lists a link from both ends:
    blocked_by(a, b) is blocks(b, a); relates_to has no direction) and written in bulk, each
    once: a link the project has already (a re-import) is skipped, as relation_add() refuses
    it, and so is a blocks link that would close a cycle (the service's check, over the
    links so far and those added here). Links to tickets outside the file and project are
    counted as unresolved and named in a warning. No event per link: the summary covers them.
    """
    wanted: dict[tuple[str, frozenset[int]], tuple[int, int]] = {}
    unresolved: list[str] = []
    for ticket_id, kind, other_id, other_source in links:
        if other_id is None:
            unresolved.append(other_source)
            continue
        if ticket_id == other_id or kind not in LINK_KINDS:
            continue
        stored, forward = LINK_KINDS[kind]
        source, target = (ticket_id, other_id) if forward else (other_id, ticket_id)
        # relation_add refuses a second link of a kind between two tickets, either way round.
        wanted.setdefault((stored, frozenset((source, target))), (source, target))
    report.links_unresolved += len(unresolved)
    if unresolved:
        names = ", ".join(sorted(set(unresolved))[:10])
        report.warnings.append(f"{len(unresolved)} link(s) to tickets not in the file or project, left out: {names}")
    if not wanted:
        return
    existing = {
        (kind, frozenset((source, target)))
        for kind, source, target in TicketRelation.objects.filter(
            Q(source__project=project) | Q(target__project=project)
        ).values_list("kind", "source_id", "target_id")
    }
    blocks = _Blocks(project)
    rows: list[TicketRelation] = []
    cycles: list[tuple[int, int]] = []
    for (kind, pair), (source, target) in wanted.items():
        if (kind, pair) in existing:
            report.links_existing += 1
            continue
        if kind == TicketRelation.Kind.BLOCKS:
            if blocks_would_cycle(blocker_id=source, blocked_id=target, successors=blocks.successors):
                cycles.append((source, target))
                continue
            blocks.add(source, target)
        rows.append(TicketRelation(source_id=source, target_id=target, kind=kind, created_by=by))
        report.links[kind] = report.links.get(kind, 0) + 1
    TicketRelation.objects.bulk_create(rows, batch_size=BATCH * 2)
    if cycles:
        keys = dict(Ticket.objects.filter(pk__in={pk for pair in cycles for pk in pair}).values_list("pk", "number"))
        named = ", ".join(f"{project.key}-{keys[s]} blocks {project.key}-{keys[t]}" for s, t in cycles[:10])
        report.warnings.append(f"{len(cycles)} blocks link(s) left out: each would close a cycle ({named}).")
