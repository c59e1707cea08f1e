"""Reads for accounts that several callers share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import ApiKey, User


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys that are not revoked (expired ones stay listed, marked inactive)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-pk")


def api_key_get(*, user: User, key_id: int) -> ApiKey:
    """One of the user's unrevoked keys; someone else's key is a 404, as if it did not exist."""
    key = api_key_list(user=user).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such API key.")
    return key
