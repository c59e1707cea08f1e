"""Attachments: uploads checked by size and type; images verified and re-encoded without metadata."""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import warnings
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.images import image_reduced, image_work
from accounts.services import system_settings
from projects.permissions import MANAGE, has_role
from punt import errors, json_input
from punt.errors import Forbidden
from punt.errors import invalid as _invalid
from tickets.models import Attachment, Event, Ticket
from tickets.services.common import _actor_id, _event, _publish_card, _touch

logger = logging.getLogger("punt.tickets")

THUMBNAIL_SIZE = (320, 320)


class PayloadTooLarge(errors.PayloadTooLarge):
    default_message = "The file is too large."


IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


ALLOWED_TYPES = {
    *IMAGE_FORMATS.values(),
    "application/pdf",
    "text/plain",
    "text/markdown",
    "application/zip",
    "application/json",
}


_EXTENSION_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".json": "application/json",
    ".zip": "application/zip",
    ".pdf": "application/pdf",
}


def _declared_type(upload: UploadedFile[bytes]) -> str:
    """The type the client declared, falling back on the extension when it sent a generic one."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        ext = os.path.splitext(upload.name or "")[1].lower()
        declared = _EXTENSION_TYPES.get(ext) or mimetypes.guess_type(upload.name or "")[0] or declared
    if declared == "image/jpg":
        declared = "image/jpeg"
    if declared in ("application/x-zip-compressed", "application/x-zip"):
        declared = "application/zip"
    return declared


def _safe_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip() or "file"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')[:255] or "file"


def _process_image(data: bytes) -> tuple[bytes, str, int, int, bytes]:
    """Verify an image, strip its metadata and re-encode it; return (bytes, content type, w, h, thumbnail).

    Holds the process's image slot (accounts.images.image_work) and keeps one full-size copy
    of the pixels at a time: the re-encode and the thumbnail work on the decoded image in place.
    """
    limit = settings.PUNT_MAX_IMAGE_PIXELS
    try:
        with image_work(), warnings.catch_warnings():
            Image.MAX_IMAGE_PIXELS = limit
            # Pillow only warns between 1x and 2x the limit; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                width, height = probe.size
                if width * height > limit:
                    raise _invalid("file", f"The image is too large ({width}x{height} pixels).")
                probe.verify()
            if fmt not in IMAGE_FORMATS:
                raise _invalid("file", "Only PNG, JPEG, GIF and WebP images are accepted.")
            image: Image.Image = Image.open(io.BytesIO(data))
            try:
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                    image = _converted(image, "RGB")
                _strip(image)
                out = io.BytesIO()
                save_kwargs: dict[str, Any] = {"format": fmt}
                if fmt == "JPEG":
                    save_kwargs.update(quality=90, optimize=True)
                image.save(out, **save_kwargs)
                thumbnail = _thumbnail(image)
                width, height = image.size
            finally:
                image.close()
            return out.getvalue(), IMAGE_FORMATS[fmt], width, height, thumbnail
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid("file", f"The image has too many pixels (at most {limit}).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _invalid("file", "The file is not a valid image.") from None


def _thumbnail(image: Image.Image) -> bytes:
    """A WebP thumbnail of `image`, which stays as it is (see accounts.images.image_reduced)."""
    scale = max(image.width / THUMBNAIL_SIZE[0], image.height / THUMBNAIL_SIZE[1])
    mode = "RGBA" if image.has_transparency_data else "RGB"
    # Down to at least twice the thumbnail's size by whole factors, as thumbnail()'s reducing_gap.
    reduced = image_reduced(image, box=(0, 0, *image.size), factor=int(scale / 2), mode=mode)
    reduced.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    reduced.save(out, format="WEBP", quality=80)
    return out.getvalue()


def _converted(image: Image.Image, mode: str) -> Image.Image:
    converted = image.convert(mode)
    image.close()  # frees the source's pixels now, not when the request ends
    return converted


def _strip(image: Image.Image) -> None:
    """Drop what the encoders would copy from the source besides pixels (ICC profile, comments,
    APNG and GIF extras); EXIF, GPS and XMP are only written when passed to save(). The palette
    and transparency are pixels."""
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}


def _check_content(content_type: str, data: bytes) -> None:
    """A cheap look at the bytes, so a declared type is not just a label."""
    if content_type == "application/pdf" and not data.startswith(b"%PDF-"):
        raise _invalid("file", "The file is not a PDF.")
    if content_type == "application/zip" and not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise _invalid("file", "The file is not a ZIP archive.")
    if content_type in ("text/plain", "text/markdown", "application/json"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("file", "Text files must be UTF-8.") from None
        if content_type == "application/json":
            try:
                json_input.loads(text)
            except json_input.TooDeep as exc:
                raise _invalid("file", str(exc)) from None
            except ValueError:
                raise _invalid("file", "The file is not valid JSON.") from None


def attachment_add(*, ticket: Ticket, by: Any, upload: UploadedFile[bytes], tab_id: str | None = None) -> Attachment:
    """Store an upload after checking size and type; images are re-encoded without metadata.

    The checks and the image work run before the transaction: on SQLite a write transaction
    holds the database's one write lock, and no writer should wait for an image to decode.
    """
    site = system_settings()
    limit = site.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit} bytes.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than the limit of {limit} bytes.")
    if not data:
        raise _invalid("file", "The file is empty.")
    filename = _safe_name(upload.name or "file")
    content_type = _declared_type(upload)
    # PUNT's own list (what it can check and serve safely), narrowed by the site admin's.
    if content_type not in ALLOWED_TYPES or not site.upload_type_allowed(content_type):
        raise _invalid("file", f"Files of type '{content_type or 'unknown'}' are not accepted.")
    width = height = None
    thumbnail: bytes | None = None
    if content_type.startswith("image/"):
        data, content_type, width, height, thumbnail = _process_image(data)
    else:
        _check_content(content_type, data)
    return _attachment_store(
        ticket=ticket,
        by=by,
        filename=filename,
        content_type=content_type,
        data=data,
        size=(width, height),
        thumbnail=thumbnail,
        tab_id=tab_id,
    )


@transaction.atomic
def _attachment_store(
    *,
    ticket: Ticket,
    by: Any,
    filename: str,
    content_type: str,
    data: bytes,
    size: tuple[int | None, int | None],
    thumbnail: bytes | None,
    tab_id: str | None,
) -> Attachment:
    width, height = size
    attachment = Attachment(
        ticket=ticket,
        filename=filename,
        content_type=content_type,
        size=len(data),
        width=width,
        height=height,
        uploaded_by=by,
    )
    # Files written before a failure would be orphans: remove them if saving the row fails.
    stored: list[str] = []
    attachment.file.save(filename, ContentFile(data), save=False)
    assert attachment.file.name is not None  # save() just named the stored file
    stored.append(attachment.file.name)
    if thumbnail is not None:
        attachment.thumbnail.save(os.path.splitext(filename)[0] + ".webp", ContentFile(thumbnail), save=False)
        assert attachment.thumbnail.name is not None
        stored.append(attachment.thumbnail.name)
    try:
        attachment.save()
        _event(ticket, by, Event.Kind.ACTION, "attach", {"attachment": {"id": attachment.pk, "filename": filename}})
        _touch(ticket)
    except Exception:
        for name in stored:
            attachment.file.storage.delete(name)
        raise
    _publish_card("board.card_updated", ticket, by=by, tab_id=tab_id)
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by: Any, tab_id: str | None = None) -> None:
    """Remove an attachment: its uploader, or a project admin. Files go once the row is gone."""
    ticket = attachment.ticket
    if attachment.uploaded_by_id != _actor_id(by) and not has_role(by, ticket.project, MANAGE):
        raise Forbidden("Only the uploader or a project admin can delete this attachment.")
    storage = attachment.file.storage
    names = [name for name in (attachment.file.name, attachment.thumbnail.name) if name]
    data = {"attachment": {"id": attachment.pk, "filename": attachment.filename}}
    attachment.delete()
    _event(ticket, by, Event.Kind.ACTION, "detach", data)
    _touch(ticket)

    def remove_files() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("Could not delete attachment file %s", name)

    transaction.on_commit(remove_files)
    _publish_card("board.card_updated", ticket, by=by, tab_id=tab_id)
