"""The ticket page (also the board's modal): fields, Markdown body, sub-tasks, checklist,
attachments, git links, watchers and the timeline; every change goes through tickets.services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from insights.forecast import forecast_remaining
from projects import selectors as project_selectors
from projects.models import Project, Sprint
from projects.permissions import READ, WRITE
from punt import errors
from punt.files import ATTACHMENT_CACHE, stored_file_response
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.custom_field_selectors import custom_fields_for_project, custom_values_of
from tickets.models import CustomField, Ticket
from web.forms import ChecklistItemForm, CommentForm, NewTicketForm, TicketForm, add_service_errors
from web.pages import ARCHIVED_TEXT, can, project_for, tab_id


def _ticket_url(project: Project, number: int, anchor: str = "") -> str:
    url = reverse("web:ticket", args=[project.namespace, project.path, number])
    return f"{url}#{anchor}" if anchor else url


def _choices(project: Project) -> dict[str, list[Any]]:
    return {
        "members": [m.user for m in project_selectors.project_members(project=project)],
        "labels": list(project_selectors.project_labels(project=project)),
        "sprints": list(project.sprints.exclude(status=Sprint.Status.CLOSED).order_by("-created_at", "-id")),
    }


def _render_ticket(
    request: HttpRequest, project: Project, role: str, number: int, *, form: TicketForm | None = None, status: int = 200
) -> HttpResponse:
    ticket = ticket_selectors.ticket_detail(project=project, card_id=_pk_for(project, number))
    choices = _choices(project)
    if form is None:
        form = TicketForm(project=project, **choices)
    watching = any(w.pk == request.user.pk for w in _watchers(ticket))
    parts = ticket_selectors.ticket_parts(ticket=ticket, names=("events", "checklist", "attachments", "links"))
    relations = ticket_selectors.relations_for(ticket=ticket, user=request.user)
    values = custom_values_of(ticket.pk)
    custom = [_custom_row(field, values.get(field.key)) for field in custom_fields_for_project(project=project)]
    context = {
        "project": project,
        "ticket": ticket,
        "role": role,
        "can_write": can(role, WRITE),
        "can_manage": can(role, "admin"),
        # The same parts the API's ?include= reads (tickets.detail), whole: a page shows them all.
        "events": list(parts["events"]),
        "checklist": list(parts["checklist"]),
        "attachments": list(parts["attachments"]),
        "git_links": list(parts["links"]),
        "relation_groups": _relation_groups(relations),
        "relation_kinds": RELATION_KINDS,
        "custom_fields": custom,
        "form": form,
        "edit_open": form.is_bound or request.GET.get("edit") == "1",
        # The in-place editor shows what was typed when a save was refused, else the ticket.
        "edit_title": form.data.get("title", ticket.title) if form.is_bound else ticket.title,
        "edit_body": form.data.get("body", ticket.body) if form.is_bound else ticket.body,
        "form_problems": _problems(form) if form.is_bound else [],
        "comment_form": CommentForm(),
        "checklist_form": ChecklistItemForm(),
        "watching": watching,
        "columns": list(project.columns.order_by("order", "id")),
        **choices,
        "label_ids": {label.pk for label in ticket.labels.all()},
        "priorities": Ticket.Priority.choices,
        "types": Ticket.Type.choices,
        "tab": "board",
        "forecast": _epic_forecast(project, ticket),
    }
    target = _hx_target(request)
    context["in_modal"] = target == "modal-body"
    context["container"] = "modal-body" if target == "modal-body" else "ticket-live"
    # The modal, the live refresh of a ticket page and the in-place edits (which pick their
    # part out with hx-select) ask for the body only.
    template = "web/_ticket_body.html" if target else "web/ticket.html"
    return render(request, template, context, status=status)


def _epic_forecast(project: Project, ticket: Ticket) -> dict[str, Any] | None:
    """For an epic: when its open sub-tickets (tickets whose parent it is) finish, at the
    project's recent pace; None for other types."""
    if ticket.type != Ticket.Type.EPIC:
        return None
    children = Ticket.objects.filter(project=project, parent=ticket, deleted_at__isnull=True)
    return forecast_remaining(project=project, tickets=children)


def _custom_row(field: CustomField, value: Any) -> dict[str, Any]:
    """One custom field as the ticket page draws it: the field, its value JSON, and for selects
    the chosen options with their colours."""
    chosen = value if isinstance(value, list) else ([value] if value is not None else [])
    options = list(field.options.all())
    return {
        "field": field,
        "value": value,
        "chosen": [option for option in options if option.name in chosen],
        "chosen_names": chosen,
        "options": options,
    }


def custom_value_from_form(field: CustomField, values: list[str]) -> Any:
    """A custom field's value as a form posts it (every value of its input), as the API's JSON:
    the service checks it (a number that does not parse goes through as text, so the service
    says what is wrong)."""
    if field.type == CustomField.Type.MULTI_SELECT:
        return [name for name in values if name]
    text = values[-1] if values else ""
    if field.type == CustomField.Type.CHECKBOX:
        return text in ("1", "on", "true")
    if field.type == CustomField.Type.NUMBER and text.strip():
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return text


def custom_fields_from_form(project: Project, data: Any) -> dict[str, Any]:
    """The new-ticket form's `cf-<key>` inputs as {key: value}; empty ones are left out, so the
    field's default applies."""
    found: dict[str, Any] = {}
    for field in custom_fields_for_project(project=project):
        name = f"cf-{field.key}"
        if name in data:
            value = custom_value_from_form(field, data.getlist(name))
            if value not in ("", []):
                found[field.key] = value
    return found


# The Relations section's groups and the add form's choices, in this order.
RELATION_KINDS = (
    ("blocks", "Blocks"),
    ("is_blocked_by", "Is blocked by"),
    ("duplicates", "Duplicates"),
    ("is_duplicated_by", "Is duplicated by"),
    ("relates_to", "Relates to"),
)


def _relation_groups(relations: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(heading, links)] of the kinds the ticket has, in RELATION_KINDS order."""
    return [(label, rows) for kind, label in RELATION_KINDS if (rows := [r for r in relations if r["kind"] == kind])]


def _hx_target(request: HttpRequest) -> str | None:
    return request.headers.get("HX-Target") if request.headers.get("HX-Request") else None


def _watchers(ticket: Ticket) -> list[User]:
    # ticket_detail() prefetches them with `to_attr`: not an attribute the model declares.
    loaded: Any = ticket
    watchers: list[User] = loaded.watcher_list
    return watchers


def _pk_for(project: Project, number: int) -> int:
    pk = Ticket.objects.filter(project=project, number=number, deleted_at__isnull=True).values_list("pk", flat=True)
    found = pk.first()
    if found is None:
        raise Http404("Ticket not found.")
    return found


def _ticket(project: Project, number: int) -> Ticket:
    return ticket_selectors.ticket_get(project=project, card_id=_pk_for(project, number))


@login_required
@require_GET
def ticket_page(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ)
    return _render_ticket(request, project, role, int(number))


def after_change(request: HttpRequest, project: Project, number: int, anchor: str = "") -> HttpResponse:
    """After a change: the modal (or an in-place edit) reloads the body via htmx; a plain form
    post gets a redirect."""
    if _hx_target(request):
        project_role = project_for(request, project.namespace, project.path, READ)[1]
        return _render_ticket(request, project, project_role, number)
    return HttpResponseRedirect(_ticket_url(project, number, anchor))


def _fail(request: HttpRequest, project: Project, number: int, exc: errors.PuntError) -> HttpResponse:
    """A refused change: htmx shows {"error"} as a toast (punt.js); a plain post gets a flash message."""
    if request.headers.get("HX-Request"):
        return JsonResponse({"error": errors.message(exc)}, status=exc.status)
    messages.error(request, errors.message(exc))
    return HttpResponseRedirect(_ticket_url(project, number))


def _service_fields(project: Project, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The form's values as ticket_create/ticket_update take them."""
    data = dict(cleaned)
    if "parent" in data:
        parent = data.pop("parent")
        found = Ticket.objects.filter(project=project, number=parent).values_list("pk", flat=True).first()
        data["parent"] = (found or f"#{parent}") if parent else None
    if "sprint" in data:
        data["sprint"] = data["sprint"] or None
    if "column" in data:
        column_id = data.pop("column")
        data["column"] = project.columns.filter(pk=column_id).first() if column_id else None
    return data


def _problems(form: TicketForm) -> list[str]:
    """A form's errors, each named by its field: "Estimate (points): Ensure this value is ..."."""
    parts: list[str] = []
    for name, texts in form.errors.items():
        label = form[name].label if name in form.fields else ""
        parts.extend(f"{label}: {text}" if label else str(text) for text in texts)
    return parts


def form_problem(form: TicketForm) -> str:
    """A form's errors as one sentence for a toast."""
    return " ".join(_problems(form)) or "That change was refused."


@login_required
@require_POST
def ticket_edit(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """Change the fields the form sends (all of them, one picker, or title and description):
    a field left out keeps its value."""
    project, role = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    sent = TicketForm.sent_fields(request.POST)
    form = TicketForm(request.POST, project=project, **_choices(project)).only(sent)
    if form.is_valid() and not sent:
        form.add_error(None, "Nothing to change: send at least one field.")
    if form.is_valid():
        try:
            ticket_services.ticket_update(
                ticket=ticket, by=request.user, tab_id=tab_id(request), **_service_fields(project, form.cleaned_data)
            )
        except errors.Invalid as exc:
            add_service_errors(form, exc)
        else:
            return after_change(request, project, ticket.number)
    target = _hx_target(request)
    if target and target not in ("modal-body", "ticket-live"):
        # A picker saved in place: the refusal comes back as a toast and the picker resets.
        return JsonResponse({"error": form_problem(form)}, status=400)
    # htmx does not swap error answers: the modal gets the form with its errors as a 200.
    status = 200 if target else 400
    return _render_ticket(request, project, role, ticket.number, form=form, status=status)


@login_required
@require_POST
def ticket_custom_field(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """Set one custom field of the ticket in place: `field` (its key) and `value` (several for a
    multi select; a checkbox sends "1" when ticked). An empty value clears it."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    key = request.POST.get("field", "")
    field = next((f for f in custom_fields_for_project(project=project) if f.key == key), None)
    if field is None:
        return _fail(request, project, ticket.number, errors.invalid("field", f"No custom field '{key}' here."))
    value = custom_value_from_form(field, request.POST.getlist("value"))
    try:
        ticket_services.ticket_update(
            ticket=ticket, by=request.user, tab_id=tab_id(request), custom_fields={field.key: value}
        )
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, "ticket-custom")


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """The full "new ticket" form: a page, or the board's modal (htmx, `c`); the quick add at
    the bottom of a column only takes a title."""
    project, role = project_for(request, namespace, path, WRITE)
    columns = list(project.columns.order_by("order", "id"))
    initial: dict[str, Any] = {"type": "task", "priority": "medium", "parent": request.GET.get("parent") or None}
    if initial["parent"]:
        initial["type"] = "subtask"
    if columns:
        initial["column"] = str(columns[0].pk)
    form = NewTicketForm(request.POST or None, initial=initial, project=project, columns=columns, **_choices(project))
    form.fields["body"].widget.attrs["data-draft"] = f"new-{project.pk}"
    in_modal = _hx_target(request) == "modal-body"
    new_fields = [field for field in custom_fields_for_project(project=project) if field.required]
    typed = custom_fields_from_form(project, request.POST) if request.method == "POST" else {}
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_services.ticket_create(
                project=project,
                by=request.user,
                tab_id=tab_id(request),
                custom_fields=typed,
                **_service_fields(project, form.cleaned_data),
            )
        except errors.Invalid as exc:
            add_service_errors(form, exc)
        except errors.PuntError as exc:
            form.add_error(None, errors.message(exc))
        else:
            if in_modal:
                # editor.js closes the modal, says so and has board.js draw the new card.
                response = HttpResponse(status=204)
                url = _ticket_url(project, ticket.number)
                response["HX-Trigger"] = json.dumps({"punt:created": {"text": f"{ticket.key} created.", "url": url}})
                return response
            messages.success(request, f"{ticket.key} created.")
            return redirect("web:ticket", project.namespace, project.path, ticket.number)
    context = {
        "project": project,
        "form": form,
        "role": role,
        "can_manage": can(role, "admin"),
        "tab": "board",
        # The required custom fields, filled with what was typed or else their default.
        "new_custom": [_custom_row(field, typed.get(field.key, field.default)) for field in new_fields],
        "members": _choices(project)["members"],
    }
    # htmx does not swap error answers: the modal gets the form with its errors as a 200.
    return render(request, "web/_ticket_new_form.html" if in_modal else "web/ticket_new.html", context)


@login_required
@require_POST
def comment_add(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    form = CommentForm(request.POST)
    if not form.is_valid():
        # Say what is wrong (an empty text, or minutes out of range), field by field.
        problems = {field: [str(text) for text in messages_] for field, messages_ in form.errors.items()}
        if "body" in problems and not request.POST.get("body", "").strip():
            problems["body"] = ["Write something first."]
        return _fail(request, project, ticket.number, errors.invalid_fields(problems))
    try:
        comment = ticket_services.comment_create(
            ticket=ticket,
            by=request.user,
            body=form.cleaned_data["body"],
            minutes=form.cleaned_data.get("minutes"),
            tab_id=tab_id(request),
        )
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, str(comment.pk))


@login_required
@require_POST
def comment_change(request: HttpRequest, namespace: str, path: str, number: str, comment_id: str) -> HttpResponse:
    """Edit (`body`) or delete (`delete`=1) a comment: the service lets authors edit, and
    authors or project admins delete."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    comment = ticket_selectors.comment_get(project=project, comment_id=int(comment_id), ticket=ticket)
    try:
        if request.POST.get("delete"):
            ticket_services.comment_delete(comment=comment, by=request.user, tab_id=tab_id(request))
            return after_change(request, project, ticket.number, "timeline")
        ticket_services.comment_update(
            comment=comment, by=request.user, body=request.POST.get("body", ""), tab_id=tab_id(request)
        )
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, str(comment.pk))


@login_required
@require_POST
def checklist_add(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    try:
        ticket_services.checklist_item_add(
            ticket=ticket, by=request.user, text=request.POST.get("text", ""), tab_id=tab_id(request)
        )
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, "checklist")


@login_required
@require_POST
def checklist_toggle(request: HttpRequest, namespace: str, path: str, number: str, item_id: str) -> HttpResponse:
    """Tick/untick (`done`=1/0) or remove (`delete`=1) one checklist item."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    item = ticket_selectors.checklist_item_get(project=project, item_id=int(item_id), ticket=ticket)
    try:
        if request.POST.get("delete"):
            ticket_services.checklist_item_delete(item=item, by=request.user, tab_id=tab_id(request))
        else:
            done = request.POST.get("done") in ("1", "true", "on")
            ticket_services.checklist_item_update(item=item, by=request.user, done=done, tab_id=tab_id(request))
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, "checklist")


@login_required
@require_POST
def attachment_add(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    upload = request.FILES.get("file")
    if upload is None:
        return _fail(request, project, ticket.number, errors.invalid("file", "Choose a file to attach."))
    try:
        ticket_services.attachment_add(ticket=ticket, by=request.user, upload=upload, tab_id=tab_id(request))
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, "attachments")


@require_GET
def attachment_file(
    request: HttpRequest, namespace: str, path: str, number: str, attachment_id: str
) -> HttpResponseBase:
    """Serve an attachment (or its thumbnail) after the same read check as the ticket itself.

    With DEBUG on or off: uploads are never served as public /media/ files. Anyone who may
    not read the project (signed out included) gets a 404, not a sign-in redirect: the URL
    says nothing about whether the file exists.
    """
    project, _ = project_for(request, namespace, path, READ)
    ticket = _ticket(project, int(number))
    attachment = ticket_selectors.attachment_get(project=project, attachment_id=int(attachment_id), ticket=ticket)
    thumbnail = bool(request.GET.get("thumb") and attachment.thumbnail)
    stored = attachment.thumbnail if thumbnail else attachment.file

    def open_file() -> Any:
        try:
            return stored.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise Http404("The file is missing.") from exc

    return stored_file_response(
        request,
        open_file,
        name=stored.name or "",
        modified=attachment.created_at,
        filename=attachment.filename,
        content_type="image/webp" if thumbnail else attachment.content_type,
        cache_control=ATTACHMENT_CACHE,
    )


@login_required
@require_POST
def watch_toggle(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    # Viewers may watch (it only changes their own notifications), but nothing changes in an archive.
    project, _ = project_for(request, namespace, path, READ)
    if project.archived_at is not None:
        raise PermissionDenied(ARCHIVED_TEXT)
    ticket = _ticket(project, int(number))
    if request.POST.get("watch") == "1":
        ticket_services.ticket_watch(ticket=ticket, user=request.user)
    else:
        ticket_services.ticket_unwatch(ticket=ticket, user=request.user)
    return after_change(request, project, ticket.number)


@login_required
@require_POST
def ticket_delete(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    ticket_services.ticket_delete(ticket=ticket, by=request.user, tab_id=tab_id(request))
    board_url = reverse("web:board", args=[project.namespace, project.path])
    if request.headers.get("HX-Request"):
        # editor.js closes the modal (or goes to the board) and offers Undo through the restore URL.
        response = HttpResponse(status=204)
        restore_url = reverse("web:ticket_restore", args=[project.namespace, project.path, ticket.number])
        deleted = {"text": f"{ticket.key} was deleted.", "restore": restore_url, "board": board_url}
        response["HX-Trigger"] = json.dumps({"punt:deleted": deleted})
        return response
    messages.success(request, f"{ticket.key} was deleted.")
    return HttpResponseRedirect(board_url)


@login_required
@require_POST
def relation_add(request: HttpRequest, namespace: str, path: str, number: str) -> HttpResponse:
    """Link this ticket to another by its key (`kind`, `ticket`; `close`=1 with duplicates closes it)."""
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    try:
        other = ticket_services.relation_target(user=request.user, key=request.POST.get("ticket", ""))
        ticket_services.relation_add(
            ticket=ticket,
            other=other,
            kind=request.POST.get("kind", ""),
            close=request.POST.get("close") == "1",
            by=request.user,
            tab_id=tab_id(request),
        )
    except errors.PuntError as exc:
        return _fail(request, project, ticket.number, exc)
    return after_change(request, project, ticket.number, "relations")


@login_required
@require_POST
def relation_remove(request: HttpRequest, namespace: str, path: str, number: str, relation_id: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    ticket = _ticket(project, int(number))
    relation = ticket_selectors.relation_get(ticket=ticket, user=request.user, relation_id=int(relation_id))
    ticket_services.relation_remove(relation=relation, by=request.user, tab_id=tab_id(request))
    return after_change(request, project, ticket.number, "relations")
