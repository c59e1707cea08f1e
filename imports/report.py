"""What an import did (or, in a dry run, would do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """What an import did (or, in a dry run, would do). Stored as JSON on the ImportRun."""

    source: str
    dry_run: bool = False
    tickets: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    comments_created: int = 0
    comments_updated: int = 0
    checklist_items: int = 0
    columns_created: list[str] = field(default_factory=list)
    labels_created: list[str] = field(default_factory=list)
    sprints_created: list[str] = field(default_factory=list)
    members_added: list[str] = field(default_factory=list)
    # "name in the file" -> "PUNT user name (how matched)"
    users_matched: dict[str, str] = field(default_factory=dict)
    # "name in the file" -> how many tickets/comments name them
    users_unknown: dict[str, int] = field(default_factory=dict)
    # custom field name -> {"type": its type, "created": made by this import, "tickets": how
    # many tickets get a value, "options_created": [select options added]}
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_values: int = 0  # value rows written
    # stored relation kind -> links added; links already there; links to tickets not in the
    # file or project (named in a warning, as are blocks links left out for closing a cycle)
    links: dict[str, int] = field(default_factory=dict)
    links_existing: int = 0
    links_unresolved: int = 0
    warnings: list[str] = field(default_factory=list)
    error: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
