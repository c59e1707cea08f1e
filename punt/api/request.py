from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

if TYPE_CHECKING:
    # Type-only: punt/ is plumbing and must not import an app at run time.
    from accounts.models import User


def tab_id(request: Any) -> str | None:
    """The `X-Tab-Id` a browser tab sends so it is not echoed its own changes."""
    value = request.headers.get("X-Tab-Id", "").strip()
    return value[:64] or None


def request_user(request: Request | HttpRequest) -> User:
    """The signed-in user of a request that an authentication check has already let through.

    Precondition: the view requires a signed-in user (`IsAuthenticated` or stricter, or the
    admin site's staff check), so an anonymous user here is a programming error. The stubs
    type `request.user` as `User | AnonymousUser`; this narrows it once instead of a cast
    at every service call.
    """
    user = request.user
    assert not isinstance(user, AnonymousUser), "view reached without an authenticated user"
    return user


def validated(serializer_class: type[BaseSerializer[Any]], data: Any, **kwargs: Any) -> dict[str, Any]:
    """`data` checked by an input serializer: its clean values, or a 400 in the API's error shape."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
