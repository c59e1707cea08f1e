"""Writes for tickets, their timeline, checklists, attachments, git links, watchers and time entries.

Every public function is keyword-only, runs in one transaction (a bad input leaves
nothing behind) and publishes its events on commit through punt.events.publish.
Callers have already checked the caller's role with projects.permissions; the rules that
depend on *who* acts (edit own comment, delete own or admin) are checked here.

One module per subject, as Zulip's `zerver/actions/`: `tickets` (create, update, close, reopen),
`bin` (soft delete, restore, destroy), `moves` (ranks, column locks, WIP limits: card order is explained there),
`custom_fields` (a project's custom fields), `custom_values` (tickets' values of them), `comments`,
`checklists`, `attachments`, `links` (git links), `relations` (links between tickets), `watchers`,
`time` (time entries), `views` (saved views), `board` (what column, sprint and project changes do
to the tickets on them, reached by projects through projects.board_contents), `mentions`
(references in text, Markdown), `reminders` (tickets due tomorrow), `inputs` (resolving field
values) and `common` (what they share).
The public names are re-exported here, so
`from tickets import services; services.ticket_create(...)` works as before.

Every module publishes through `events.publish` (`from punt import events`), looked up at
call time: a test that wants the events patches `punt.events.publish`.
"""

from __future__ import annotations

from tickets.services.attachments import PayloadTooLarge, attachment_add, attachment_delete
from tickets.services.bin import ticket_delete, ticket_destroy, ticket_restore
from tickets.services.checklists import (
    checklist_item_add,
    checklist_item_delete,
    checklist_item_update,
    checklist_reorder,
)
from tickets.services.comments import COMMENT_MAX, comment_create, comment_delete, comment_payload, comment_update
from tickets.services.common import UNSET, ticket_brief, ticket_html_url
from tickets.services.custom_fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_restore,
    custom_field_update,
    custom_fields_purge,
    custom_fields_reorder,
)
from tickets.services.inputs import resolve_labels, resolve_parent, resolve_sprint, resolve_user
from tickets.services.links import git_link_add
from tickets.services.mentions import render_markdown
from tickets.services.moves import RANK_GAP, WipLimitExceeded, ticket_move
from tickets.services.relations import (
    Blocked,
    relation_add,
    relation_remove,
    relation_target,
)
from tickets.services.reminders import due_reminders_send
from tickets.services.tickets import (
    reopen_column,
    ticket_close,
    ticket_create,
    ticket_reopen,
    ticket_update,
)
from tickets.services.time import time_entry_create, time_entry_delete, time_entry_update
from tickets.services.views import saved_view_create, saved_view_delete, saved_view_update
from tickets.services.watchers import ticket_unwatch, ticket_watch

__all__ = [
    "COMMENT_MAX",
    "RANK_GAP",
    "UNSET",
    "Blocked",
    "PayloadTooLarge",
    "WipLimitExceeded",
    "attachment_add",
    "attachment_delete",
    "checklist_item_add",
    "checklist_item_delete",
    "checklist_item_update",
    "checklist_reorder",
    "comment_create",
    "comment_delete",
    "comment_payload",
    "comment_update",
    "custom_field_create",
    "custom_field_delete",
    "custom_field_restore",
    "custom_field_update",
    "custom_fields_purge",
    "custom_fields_reorder",
    "due_reminders_send",
    "git_link_add",
    "relation_add",
    "relation_remove",
    "relation_target",
    "render_markdown",
    "reopen_column",
    "resolve_labels",
    "resolve_parent",
    "resolve_sprint",
    "resolve_user",
    "saved_view_create",
    "saved_view_delete",
    "saved_view_update",
    "ticket_brief",
    "ticket_close",
    "ticket_create",
    "ticket_delete",
    "ticket_destroy",
    "ticket_html_url",
    "ticket_move",
    "ticket_reopen",
    "ticket_restore",
    "ticket_unwatch",
    "ticket_update",
    "ticket_watch",
    "time_entry_create",
    "time_entry_delete",
    "time_entry_update",
]
