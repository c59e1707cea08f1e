"""Writing the audit log. Every app may call audit_record(); audit imports no app but accounts."""

from __future__ import annotations

import ipaddress
import json
import logging
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from audit.models import AuditEntry
from punt.api.ratelimit import client_ip

logger = logging.getLogger(__name__)


class ProjectLike(Protocol):
    # A projects.Project; audit may not import projects (projects records into audit).
    pk: Any
    name: str


def _text(value: Any, limit: int) -> str:
    return str(value if value is not None else "")[:limit]


def _json(value: Any) -> Any:
    """`value` as plain JSON: dates, decimals and ids as text, anything else by its str()."""
    if value is None:
        return None
    try:
        return json.loads(json.dumps(value, cls=_LenientEncoder))
    except (TypeError, ValueError):
        # Circular structures and the like: keep what it was, never fail the caller's change.
        logger.warning("audit: unserializable value %r", type(value))
        return _text(value, 1000)


class _LenientEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _ip(request: Any) -> str | None:
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except (ValueError, AttributeError):
        # "unknown" or whatever a proxy put in X-Forwarded-For: not an address to keep.
        return None


def _actor(actor: Any, request: Any) -> Any:
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def audit_record(
    *,
    action: str,
    actor: Any = None,
    request: Any = None,
    target: models.Model | None = None,
    project: ProjectLike | None = None,
    before: Any = None,
    after: Any = None,
    data: Any = None,
) -> AuditEntry:
    """Record one security-relevant change.

    Runs in the caller's transaction, so a change that rolls back leaves no entry. Values are
    cut to fit and made JSON-safe so that a bad value never fails the caller's operation.
    `actor` defaults to the request's signed-in user; the IP comes from `request`
    (punt.api.ratelimit.client_ip, which honours PUNT_TRUSTED_PROXY_COUNT).
    """
    user = _actor(actor, request)
    entry = AuditEntry(
        actor=user if user is not None and user.pk is not None else None,
        actor_name=_text(getattr(user, "username", ""), 150),
        ip=_ip(request),
        action=_text(action, 64),
        before=_json(before),
        after=_json(after),
        data=_json(data) if data is not None else {},
    )
    if target is not None:
        entry.target_type = _text(target._meta.label_lower, 100)
        entry.target_id = _text(target.pk, 64)
        entry.target_repr = _text(target, 200)
    if project is not None:
        entry.project_id = project.pk
        entry.project_name = _text(project.name, 200)
    entry.save()
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (before, after): what a "changed" entry records."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def audit_prune(*, now: Any = None, days: int | None = None) -> int:
    """Delete entries older than the retention (PUNT_AUDIT_RETENTION_DAYS; 0 keeps them forever).

    The only way entries leave the log. Returns how many were deleted.
    """
    keep_days = settings.PUNT_AUDIT_RETENTION_DAYS if days is None else days
    if keep_days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return deleted
