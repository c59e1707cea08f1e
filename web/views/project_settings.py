"""Project settings for admins and owners: members and roles, columns, labels, git host hooks,
incoming chat webhooks and outgoing webhooks. One POST endpoint takes an `action` and calls
the matching service; secrets that exist only at creation are shown once, on the next page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import audit_entries
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Column, Invitation, Membership, Project
from projects.permissions import MANAGE, OWN
from projects.services import invitations
from punt import errors
from punt.ranges import as_id, as_int, column_range
from tickets import services as ticket_services
from tickets.custom_field_selectors import custom_field_get, custom_fields_for_project, tickets_with_value
from tickets.models import CustomField
from tickets.services.custom_fields import PURGE_AFTER
from web.pages import project_for, tab_id
from webhooks import selectors as hook_selectors
from webhooks import services as hook_services
from webhooks.models import Delivery, GitHook

# A custom field form the service refused: what was typed and why, shown again once
# (field 0: the new-field form).
CF_FORM_KEY = "punt_settings_cf_form"
# A custom field whose deletion waits for "yes": its id, name and how many tickets hold a value.
CF_CONFIRM_KEY = "punt_settings_cf_confirm"
# Blank option rows the new-field form and each select field's form offer.
CF_NEW_OPTIONS = 3
# Shown once after creation, then dropped from the session.
ONCE_KEY = "punt_settings_secret"
# A webhook form refused for its filter: what was typed and why, shown again in that form once.
HOOK_FORM_KEY = "punt_settings_hook_form"


def _id(value: str | None) -> int:
    """A row id from a form; 0 (no row's) for anything a key cannot hold."""
    return as_id((value or "").strip()) or 0


def _wip_limit(request: HttpRequest) -> int | None:
    """The form's WIP limit: empty is none, anything the column cannot hold is a message."""
    text = request.POST.get("wip_limit", "").strip()
    if not text:
        return None
    low, high = column_range(Column, "wip_limit")
    value = as_int(text, low, high)
    if value is None:
        raise errors.invalid("wip_limit", f"The WIP limit is a whole number from {low} to {high}.")
    return value


def _swapped(ids: list[int], a: int, b: int) -> list[int]:
    order = list(ids)
    order[a], order[b] = order[b], order[a]
    return order


def _choice(request: HttpRequest, field: str, allowed: list[str], default: str | None = None) -> str:
    """A form's choice checked against `allowed`: the services take these words as given
    (the API's serializers check them there), so the page checks them here."""
    value = request.POST.get(field) or default
    if value not in allowed:
        raise errors.invalid(field, f"Choose one of: {', '.join(allowed)}.")
    return value


# Roles the page may hand out: the owner is made only by a transfer.
GRANTABLE = [r for r in Membership.Role.values if r != Membership.Role.OWNER]


def _member(project: Project, request: HttpRequest) -> Membership:
    return project_selectors.membership_get(project=project, username=request.POST.get("username", ""))


def _column(project: Project, request: HttpRequest, field: str = "column") -> Column:
    return project_selectors.column_get(project=project, pk=_id(request.POST.get(field)))


def _action_member_add(request: HttpRequest, project: Project) -> str:
    m = project_services.membership_add(
        project=project,
        username=request.POST.get("username", "").strip(),
        role=_choice(request, "role", GRANTABLE, "member"),
        by=request.user,
        tab_id=tab_id(request),
        request=request,
    )
    return f"{m.user.username} joined as {m.role}."


def _action_member_role(request: HttpRequest, project: Project) -> str:
    m = project_services.membership_update(
        membership=_member(project, request),
        role=_choice(request, "role", GRANTABLE),
        by=request.user,
        tab_id=tab_id(request),
        request=request,
    )
    return f"{m.user.username} is now {m.role}."


def _action_member_remove(request: HttpRequest, project: Project) -> str:
    membership = _member(project, request)
    project_services.membership_remove(membership=membership, by=request.user, tab_id=tab_id(request), request=request)
    return f"{membership.user.username} was removed."


def _days(request: HttpRequest) -> Any:
    """The link form's "expires in N days": empty is never."""
    text = request.POST.get("expires_days", "").strip()
    if not text:
        return None
    days = as_int(text, 1, invitations.MAX_INVITATION_DAYS)
    if days is None:
        limit = invitations.MAX_INVITATION_DAYS
        raise errors.invalid("expires_days", f"Expiry: a whole number of days from 1 to {limit}.")
    return timezone.now() + timedelta(days=days)


def _action_invite_email(request: HttpRequest, project: Project) -> str:
    created = invitations.invitation_create(
        project=project,
        kind=Invitation.Kind.EMAIL,
        email=request.POST.get("email", ""),
        role=_choice(request, "role", GRANTABLE, "member"),
        by=request.user,
        request=request,
    )
    return f"Invitation sent to {created.invitation.email}."


def _action_invite_link(request: HttpRequest, project: Project) -> str:
    text = request.POST.get("max_uses", "").strip()
    max_uses = as_int(text, 1, invitations.MAX_USES_LIMIT) if text else None
    if text and max_uses is None:
        raise errors.invalid("max_uses", f"Uses: a whole number from 1 to {invitations.MAX_USES_LIMIT}.")
    created = invitations.invitation_create(
        project=project,
        kind=Invitation.Kind.LINK,
        role=_choice(request, "role", GRANTABLE, "member"),
        expires_at=_days(request),
        max_uses=max_uses,
        by=request.user,
        request=request,
    )
    request.session[ONCE_KEY] = {"what": f"Invite link ({created.invitation.role})", "url": created.url, "secret": ""}
    return "Invite link created: copy it now, it is shown only once."


def _action_invite_revoke(request: HttpRequest, project: Project) -> str:
    invitation = project_selectors.invitation_get(project=project, invitation_id=_id(request.POST.get("invitation")))
    invitations.invitation_revoke(invitation=invitation, by=request.user, request=request)
    return "Invitation revoked."


def _action_column_add(request: HttpRequest, project: Project) -> str:
    column = project_services.column_create(
        project=project,
        name=request.POST.get("name", ""),
        category=_choice(request, "category", Column.Category.values, Column.Category.TODO),
        wip_limit=_wip_limit(request),
        by=request.user,
        tab_id=tab_id(request),
    )
    return f"Column {column.name} added."


def _action_column_update(request: HttpRequest, project: Project) -> str:
    column = project_services.column_update(
        column=_column(project, request),
        name=request.POST.get("name") or None,
        category=_choice(request, "category", Column.Category.values) if request.POST.get("category") else None,
        wip_limit=_wip_limit(request),
        by=request.user,
        tab_id=tab_id(request),
    )
    return f"Column {column.name} saved."


def _action_column_delete(request: HttpRequest, project: Project) -> str:
    column = _column(project, request)
    target_id = _id(request.POST.get("target"))
    target = project_selectors.column_get(project=project, pk=target_id) if target_id else None
    project_services.column_delete(column=column, target=target, by=request.user, tab_id=tab_id(request))
    return f"Column {column.name} deleted."


def _action_columns_reorder(request: HttpRequest, project: Project) -> str:
    order = [pk for pk in map(as_id, request.POST.getlist("order")) if pk is not None]
    project_services.columns_reorder(project=project, order=order, by=request.user, tab_id=tab_id(request))
    return "Column order saved."


def _action_label_add(request: HttpRequest, project: Project) -> str:
    label = project_services.label_create(
        project=project,
        name=request.POST.get("name", ""),
        color=request.POST.get("color") or None,
        description=request.POST.get("description", ""),
        by=request.user,
        tab_id=tab_id(request),
    )
    return f"Label {label.name} added."


def _action_label_delete(request: HttpRequest, project: Project) -> str:
    label = project_selectors.label_get(project=project, pk=_id(request.POST.get("label")))
    project_services.label_delete(label=label, by=request.user, tab_id=tab_id(request))
    return f"Label {label.name} deleted."


def _action_git_hook_add(request: HttpRequest, project: Project) -> str:
    # Signed unless the admin ticks "without a secret": a form that sends nothing keeps the safe default.
    hook = hook_services.git_hook_create(
        project=project,
        provider=request.POST.get("provider", ""),
        by=request.user,
        signed=request.POST.get("unsigned") != "1",
        request=request,
    )
    request.session[ONCE_KEY] = {
        "what": f"{hook.get_provider_display()} webhook",
        "url": hook.url,
        "secret": hook.secret,
    }
    if not hook.signed:
        return (
            f"{hook.get_provider_display()} webhook created without a secret: paste its URL into the git host. "
            "Anyone who knows the URL can post to it; a secret is recommended."
        )
    return f"{hook.get_provider_display()} webhook created: paste its URL and secret into the git host."


def _action_git_hook_revoke(request: HttpRequest, project: Project) -> str:
    hook = hook_selectors.git_hook_get(project=project, hook_id=_id(request.POST.get("hook")))
    hook_services.git_hook_revoke(hook=hook, by=request.user, request=request)
    return "Git webhook revoked."


def _action_chat_hook_add(request: HttpRequest, project: Project) -> str:
    webhook, token = hook_services.chat_webhook_create(
        project=project, name=request.POST.get("name", ""), by=request.user, request=request
    )
    url = django_settings.SITE_URL + reverse("chat-webhook-post", kwargs={"token": token})
    request.session[ONCE_KEY] = {"what": f"Incoming webhook “{webhook.name}”", "url": url, "secret": ""}
    return "Incoming webhook created: copy its URL now, it is shown only once."


def _action_chat_hook_revoke(request: HttpRequest, project: Project) -> str:
    webhook = hook_selectors.chat_webhook_get(project=project, webhook_id=_id(request.POST.get("hook")))
    hook_services.chat_webhook_revoke(webhook=webhook, by=request.user, request=request)
    return "Incoming webhook revoked."


def _keep_hook_form(request: HttpRequest, hook_id: int, exc: errors.Invalid, fields: list[str]) -> None:
    """Remember a webhook form the filter made fail, so the page shows it again with the error
    under the filter (hook_id 0: the new-webhook form)."""
    if any(detail.get("field") == "filter" for detail in exc.details):
        typed = {field: request.POST.get(field, "") for field in fields}
        request.session[HOOK_FORM_KEY] = {"hook": hook_id, "error": errors.message(exc), **typed}


def _action_hook_add(request: HttpRequest, project: Project) -> str:
    events = [e for e in request.POST.get("events", "").replace(",", " ").split() if e] or ["*"]
    try:
        hook = hook_services.hook_create(
            project=project,
            url=request.POST.get("url", ""),
            events=events,
            description=request.POST.get("description", ""),
            filter=request.POST.get("filter", ""),
            by=request.user,
            request=request,
        )
    except errors.Invalid as exc:
        _keep_hook_form(request, 0, exc, ["url", "events", "filter"])
        raise
    request.session[ONCE_KEY] = {"what": f"Outgoing webhook to {hook.url}", "url": "", "secret": hook.secret}
    return "Outgoing webhook added."


def _action_hook_filter(request: HttpRequest, project: Project) -> str:
    hook = hook_selectors.hook_get(project=project, hook_id=_id(request.POST.get("hook")))
    try:
        hook = hook_services.hook_update(
            hook=hook, by=request.user, filter=request.POST.get("filter", ""), request=request
        )
    except errors.Invalid as exc:
        _keep_hook_form(request, hook.pk, exc, ["filter"])
        raise
    return "Filter saved." if hook.filter else "Filter removed: every event is sent."


def _action_hook_rotate(request: HttpRequest, project: Project) -> str:
    hook = hook_selectors.hook_get(project=project, hook_id=_id(request.POST.get("hook")))
    hook = hook_services.hook_update(hook=hook, by=request.user, rotate_secret=True, request=request)
    request.session[ONCE_KEY] = {"what": f"New secret for {hook.url}", "url": "", "secret": hook.secret}
    return "Secret rotated: update the receiving end, the old secret no longer signs deliveries."


def _action_hook_active(request: HttpRequest, project: Project) -> str:
    hook = hook_selectors.hook_get(project=project, hook_id=_id(request.POST.get("hook")))
    hook = hook_services.hook_update(
        hook=hook, by=request.user, active=request.POST.get("active") == "1", request=request
    )
    return "Webhook resumed." if hook.active else "Webhook paused: no deliveries until you resume it."


def _action_hook_delete(request: HttpRequest, project: Project) -> str:
    hook = hook_selectors.hook_get(project=project, hook_id=_id(request.POST.get("hook")))
    hook_services.hook_delete(hook=hook, by=request.user, request=request)
    return "Outgoing webhook deleted."


def _flag(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("1", "on", "true")


def _cf_options(request: HttpRequest) -> list[dict[str, Any]]:
    """The option rows of a custom field form, in their `option_order` (then form) order: a row
    with an `option_id` keeps that option (renamed, recoloured), one without adds an option, and
    a row whose name is emptied is left out, so the service removes that option."""
    ids = request.POST.getlist("option_id")
    names = request.POST.getlist("option_name")
    colors = request.POST.getlist("option_color")
    orders = request.POST.getlist("option_order")
    rows: list[tuple[int, int, dict[str, Any]]] = []
    for index, name in enumerate(names):
        if not name.strip():
            continue
        option: dict[str, Any] = {"name": name}
        if index < len(colors) and colors[index]:
            option["color"] = colors[index]
        option_id = as_id(ids[index]) if index < len(ids) and ids[index] else None
        if option_id is not None:
            option["id"] = option_id
        order = as_int(orders[index], 0, 10_000) if index < len(orders) and orders[index].strip() else None
        rows.append((index if order is None else order, index, option))
    return [option for _order, _index, option in sorted(rows, key=lambda row: (row[0], row[1]))]


def _cf_default(type_: str, text: str) -> Any:
    """A default as the form's text gives it, as the service's value JSON (the service checks it):
    a multi select's names are separated by commas, a checkbox's is yes or no."""
    text = text.strip()
    if not text:
        return None
    if type_ == CustomField.Type.MULTI_SELECT:
        return [name.strip() for name in text.split(",") if name.strip()]
    if type_ == CustomField.Type.CHECKBOX:
        return text.lower() in ("yes", "true", "1", "on")
    if type_ == CustomField.Type.NUMBER:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return text


def _keep_cf_form(request: HttpRequest, field_id: int, exc: errors.PuntError) -> None:
    """Remember a refused custom field form so the page shows it again with the error."""
    typed = {name: request.POST.get(name, "") for name in ("name", "type", "description", "unit", "default")}
    request.session[CF_FORM_KEY] = {"field": field_id, "error": errors.message(exc), **typed}


def _custom_field(project: Project, request: HttpRequest, deleted: bool = False) -> CustomField:
    return custom_field_get(project=project, field_id=_id(request.POST.get("field")), deleted=deleted)


def _action_cf_add(request: HttpRequest, project: Project) -> str:
    type_ = request.POST.get("type", "")
    try:
        field = ticket_services.custom_field_create(
            project=project,
            by=request.user,
            name=request.POST.get("name", ""),
            type=type_,
            description=request.POST.get("description", ""),
            unit=request.POST.get("unit", ""),
            required=_flag(request, "required"),
            show_on_card=_flag(request, "show_on_card"),
            default=_cf_default(type_, request.POST.get("default", "")),
            options=_cf_options(request),
        )
    except errors.PuntError as exc:
        _keep_cf_form(request, 0, exc)
        raise
    return f"Custom field {field.name} added."


def _action_cf_update(request: HttpRequest, project: Project) -> str:
    field = _custom_field(project, request)
    try:
        field = ticket_services.custom_field_update(
            field=field,
            by=request.user,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            unit=request.POST.get("unit", ""),
            required=_flag(request, "required"),
            show_on_card=_flag(request, "show_on_card"),
            default=_cf_default(field.type, request.POST.get("default", "")),
            **({"options": _cf_options(request)} if field.type in SELECT_TYPES else {}),
        )
    except errors.PuntError as exc:
        _keep_cf_form(request, field.pk, exc)
        raise
    return f"Custom field {field.name} saved."


def _action_cf_delete(request: HttpRequest, project: Project) -> str:
    """Delete a field; when tickets hold values of it, the first post asks for a confirmation
    naming how many (the page shows it) and the second, with `confirm`, deletes."""
    field = _custom_field(project, request)
    confirm = _flag(request, "confirm")
    if not confirm:
        count = tickets_with_value(field)
        if count:
            request.session[CF_CONFIRM_KEY] = {"field": field.pk, "name": field.name, "count": count}
            return f"{count} ticket{'s carry' if count != 1 else ' carries'} a value of {field.name}: confirm below."
    ticket_services.custom_field_delete(field=field, by=request.user, confirm=confirm)
    return f"Custom field {field.name} deleted. You can restore it for 30 days."


def _action_cf_restore(request: HttpRequest, project: Project) -> str:
    field = ticket_services.custom_field_restore(field=_custom_field(project, request, deleted=True), by=request.user)
    return f"Custom field {field.name} restored with its values."


def _action_cf_reorder(request: HttpRequest, project: Project) -> str:
    order = [pk for pk in map(as_id, request.POST.getlist("order")) if pk is not None]
    ticket_services.custom_fields_reorder(project=project, by=request.user, order=order)
    return "Custom field order saved."


SELECT_TYPES = (CustomField.Type.SELECT, CustomField.Type.MULTI_SELECT)


ACTIONS: dict[str, Callable[[HttpRequest, Project], str]] = {
    "member_add": _action_member_add,
    "member_role": _action_member_role,
    "member_remove": _action_member_remove,
    "invite_email": _action_invite_email,
    "invite_link": _action_invite_link,
    "invite_revoke": _action_invite_revoke,
    "column_add": _action_column_add,
    "column_update": _action_column_update,
    "column_delete": _action_column_delete,
    "columns_reorder": _action_columns_reorder,
    "label_add": _action_label_add,
    "label_delete": _action_label_delete,
    "git_hook_add": _action_git_hook_add,
    "git_hook_revoke": _action_git_hook_revoke,
    "chat_hook_add": _action_chat_hook_add,
    "chat_hook_revoke": _action_chat_hook_revoke,
    "hook_add": _action_hook_add,
    "hook_delete": _action_hook_delete,
    "hook_rotate": _action_hook_rotate,
    "hook_active": _action_hook_active,
    "hook_filter": _action_hook_filter,
    "cf_add": _action_cf_add,
    "cf_update": _action_cf_update,
    "cf_delete": _action_cf_delete,
    "cf_restore": _action_cf_restore,
    "cf_reorder": _action_cf_reorder,
}


def _cf_default_text(default: Any) -> str:
    """A field's default as its form's text (the reverse of _cf_default)."""
    if default is None:
        return ""
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list):
        return ", ".join(str(item) for item in default)
    return str(default)


# How much of a webhook's delivery log its page shows (newest first).
DELIVERY_LOG = 50
AUDIT_LOG = 100
# The families a project's log holds (audit entries with this project's id).
AUDIT_FAMILIES = [
    ("member.", "Members and roles"),
    ("project.", "Archive, restore, delete"),
    ("webhook.", "Webhooks"),
    ("invitation.", "Invitations"),
]


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, MANAGE)
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            raise Http404("Unknown action.")
        try:
            messages.success(request, action(request, project))
        except errors.PuntError as exc:
            messages.error(request, errors.message(exc))
        # The section to land on: member_add → #member, columns_reorder → #column.
        anchor = request.POST.get("action", "").split("_")[0].rstrip("s")
        return redirect(reverse("web:project_settings", args=[project.namespace, project.path]) + f"#{anchor}")
    columns = list(project_selectors.project_columns(project=project))
    ids = [c.pk for c in columns]
    # Each row's ↑/↓ buttons post the whole new order (what columns_reorder takes), so they work without JS.
    for index, column in enumerate(columns):
        # For the template only: not fields the model declares.
        column.__dict__.update(
            order_up=_swapped(ids, index, index - 1) if index > 0 else None,
            order_down=_swapped(ids, index, index + 1) if index < len(ids) - 1 else None,
        )
    fields = custom_fields_for_project(project=project)
    field_ids = [f.pk for f in fields]
    for index, field in enumerate(fields):
        default = field.default
        # For the template only: the ↑/↓ orders and the default as the form's text.
        field.__dict__.update(
            order_up=_swapped(field_ids, index, index - 1) if index > 0 else None,
            order_down=_swapped(field_ids, index, index + 1) if index < len(field_ids) - 1 else None,
            default_text=_cf_default_text(default),
        )
    recent = timezone.now() - PURGE_AFTER
    deleted_fields = [
        f for f in custom_fields_for_project(project=project, deleted=True) if f.deleted_at and f.deleted_at > recent
    ]
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "settings",
        "custom_fields": fields,
        "deleted_custom_fields": deleted_fields,
        "cf_types": CustomField.Type.choices,
        "cf_form": request.session.pop(CF_FORM_KEY, None) or {},
        "cf_confirm": request.session.pop(CF_CONFIRM_KEY, None),
        "cf_blank_options": range(CF_NEW_OPTIONS),
        "can_manage": True,
        "memberships": list(project_selectors.project_members(project=project)),
        "invitations": list(project_selectors.invitations_pending(project=project)),
        "roles": [r for r in Membership.Role.choices if r[0] != Membership.Role.OWNER],
        "columns": columns,
        "categories": Column.Category.choices,
        "labels": list(project_selectors.project_labels(project=project)),
        "git_hooks": list(hook_selectors.git_hooks_for(project=project)),
        "providers": GitHook.Provider.choices,
        "chat_hooks": list(hook_selectors.chat_webhooks_for(project=project)),
        "hooks": list(hook_selectors.hooks_for(project=project)),
        "once": request.session.pop(ONCE_KEY, None),
        "hook_form": request.session.pop(HOOK_FORM_KEY, None) or {},
        "is_owner": role == OWN,
    }
    return render(request, "web/project_settings.html", context)


@login_required
@require_POST
def project_archive(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """The owner hides the project: it turns read-only and leaves everyone's lists until restored."""
    project, _ = project_for(request, namespace, path, OWN)
    try:
        project_services.project_archive(project=project, by=request.user, tab_id=tab_id(request), request=request)
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    else:
        messages.success(
            request, f"{project.name} was archived. You can restore it from its board or the project list."
        )
    return redirect("web:board", project.namespace, project.path)


@login_required
@require_POST
def project_restore(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """The owner brings an archived project back (the one write meant for an archived project)."""
    project, _ = project_for(request, namespace, path, OWN, allow_archived=True)
    try:
        project_services.project_restore(project=project, by=request.user, tab_id=tab_id(request), request=request)
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    else:
        messages.success(request, f"{project.name} is back.")
    return redirect("web:board", project.namespace, project.path)


@login_required
@require_http_methods(["GET", "POST"])
def hook_deliveries(request: HttpRequest, namespace: str, path: str, hook_id: str) -> HttpResponse:
    """One outgoing webhook's delivery log (newest first), with "redeliver" on each entry."""
    project, role = project_for(request, namespace, path, MANAGE)
    hook = hook_selectors.hook_get(project=project, hook_id=int(hook_id))
    here = reverse("web:hook_deliveries", args=[project.namespace, project.path, hook.pk])
    if request.method == "POST":
        delivery = hook_selectors.delivery_get(hook=hook, delivery_id=_id(request.POST.get("delivery")))
        copy = hook_services.delivery_redeliver(delivery=delivery, by=request.user)
        messages.success(request, f"Delivery {delivery.guid} queued again (entry #{copy.pk}).")
        return redirect(here)
    status = request.GET.get("status") or None
    statuses = dict(Delivery.Status.choices)
    if status not in statuses:
        status = None
    deliveries = list(hook_selectors.deliveries_for(hook=hook, status=status)[:DELIVERY_LOG])
    context = {
        "project": project,
        "role": role,
        "tab": "settings",
        "can_manage": True,
        "hook": hook,
        "deliveries": deliveries,
        "statuses": Delivery.Status.choices,
        "status": status,
        "limit": DELIVERY_LOG,
    }
    return render(request, "web/hook_deliveries.html", context)


@login_required
@require_GET
def project_audit_log(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    """The project's part of the audit log (admins and owners), newest first; the full list
    with every filter is the API's (/api/v1/projects/<slug>/audit-log, CSV too)."""
    project, role = project_for(request, namespace, path, MANAGE, allow_archived=True)
    family = request.GET.get("action") or ""
    if family not in dict(AUDIT_FAMILIES):
        family = ""
    entries = list(audit_entries(project_id=project.pk, action=family)[:AUDIT_LOG])
    context = {
        "project": project,
        "role": role,
        "tab": "settings",
        "can_manage": True,
        "entries": entries,
        "families": AUDIT_FAMILIES,
        "family": family,
        "limit": AUDIT_LOG,
        "csv_url": reverse("project-audit-log", kwargs={"slug": project.slug}) + "?format=csv",
    }
    return render(request, "web/project_audit_log.html", context)
