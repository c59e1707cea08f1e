"""Reads for accounts that several callers share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import ApiKey, User
from punt.errors import NotFound


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys that are not revoked (expired ones stay listed, marked inactive)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-pk")


def api_key_get(*, user: User, key_id: int) -> ApiKey:
    """One of the user's unrevoked keys; someone else's key is a 404, as if it did not exist."""
    key = api_key_list(user=user).filter(pk=key_id).first()
    if key is None:
        raise NotFound()
    return key


def users_for_admin(*, search: str = "", is_active: bool | None = None, role: str = "") -> QuerySet[User]:
    """Every account, for site admins: `search` matches user name, email and display name."""
    queryset = User.objects.all()
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(username__icontains=search) | Q(email__icontains=search) | Q(display_name__icontains=search)
        )
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if role == User.GlobalRole.ADMIN:
        queryset = queryset.filter(Q(is_staff=True) | Q(is_superuser=True))
    elif role:
        # global_roles is a short list of known words: matching the quoted word in its JSON
        # text works on SQLite and PostgreSQL alike (SQLite has no JSON containment lookup).
        queryset = queryset.filter(global_roles__icontains=f'"{role}"')
    return queryset.order_by("username", "id")


def user_get_for_admin(*, pk: int) -> User:
    # An id past the 64-bit column matches nothing (PostgreSQL would refuse to compare it).
    user = User.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if user is None:
        raise NotFound()
    return user
