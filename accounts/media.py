"""Avatars as files, at the URL their storage names (`/media/avatars/<name>`), with DEBUG on or off.

Avatars are public, as on GitHub: any page or API answer may show one. Nothing else under
/media/ is served this way: attachments go out only through the views that check the reader
may see the ticket.
"""

from __future__ import annotations

import os
import re
from typing import IO

from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from accounts.models import User
from punt.files import stored_file_response

AVATAR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
# accounts.services stores WebP; avatars set through the admin site keep their image format.
AVATAR_TYPES = {
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}
# A new avatar gets a new name (accounts.services), so a name's file never changes.
AVATAR_CACHE = "public, max-age=86400"


@require_GET
def avatar_file(request: HttpRequest, name: str) -> HttpResponseBase:
    if not AVATAR_NAME.fullmatch(name):
        raise Http404("No such avatar.")
    storage = User._meta.get_field("avatar").storage

    def open_file() -> IO[bytes]:
        try:
            return storage.open(f"avatars/{name}", "rb")
        except (OSError, SuspiciousFileOperation):
            raise Http404("No such avatar.") from None

    content_type = AVATAR_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")
    # The name is the version (a new avatar gets a new one): an ETag is enough, no storage call.
    return stored_file_response(
        request,
        open_file,
        name=name,
        modified=None,
        filename=name,
        content_type=content_type,
        cache_control=AVATAR_CACHE,
    )
