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
from accounts.models import DOCX, PPTX, XLSX, SystemSettings
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
# Images PUNT decodes, checks and re-encodes; other image/* (SVG, BMP, ...) are plain files.
PROCESSED_IMAGES = frozenset(IMAGE_FORMATS.values())

# A file's type comes from its name when the extension names one, whatever the client declared:
# the type checked against the site's list is then the one the file opens as once downloaded
# ("evil.html" declared text/plain is text/html). These are PUNT's names for the types it
# knows; Python's own table covers other extensions. Without a known extension the declared
# type counts (application/octet-stream when there is none).
EXTENSION_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".xlsx": XLSX,
    ".docx": DOCX,
    ".pptx": PPTX,
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".tar": "application/x-tar",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    # Python calls these application/octet-stream; this is their usual name (Apache's mime.types).
    ".exe": "application/x-msdownload",
    ".dll": "application/x-msdownload",
    ".bat": "application/x-msdownload",
    ".com": "application/x-msdownload",
}
# Other names clients declare for those types.
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-gzip": "application/gzip",
    "application/x-compressed-tar": "application/gzip",
    "application/x-gtar": "application/x-tar",
    "application/x-yaml": "application/yaml",
    "text/yaml": "application/yaml",
    "text/x-yaml": "application/yaml",
    "application/csv": "text/csv",
    "text/comma-separated-values": "text/csv",
}
GENERIC_TYPE = "application/octet-stream"
# Python's built-in extension table only: the host's /etc/mime.types must not change what is accepted.
_PYTHON_TYPES = mimetypes.MimeTypes()

# What the bytes of each checked type start with (offset, prefix). Office files are ZIP archives.
_ZIP = ((0, b"PK\x03\x04"), (0, b"PK\x05\x06"))
SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "application/pdf": ((0, b"%PDF-"),),
    "application/zip": _ZIP,
    XLSX: _ZIP,
    DOCX: _ZIP,
    PPTX: _ZIP,
    "application/gzip": ((0, b"\x1f\x8b"),),
    "application/x-tar": ((257, b"ustar"),),
    "video/mp4": ((4, b"ftyp"),),
    "video/webm": ((0, b"\x1a\x45\xdf\xa3"),),
}
SIGNATURE_NAMES = {
    "application/pdf": "a PDF",
    "application/zip": "a ZIP archive",
    XLSX: "an Excel workbook (.xlsx)",
    DOCX: "a Word document (.docx)",
    PPTX: "a PowerPoint presentation (.pptx)",
    "application/gzip": "a gzip file",
    "application/x-tar": "a tar archive",
    "video/mp4": "an MP4 video",
    "video/webm": "a WebM video",
}
# Text types: UTF-8 (JSON must parse too).
TEXT_TYPES = frozenset(
    {"text/plain", "text/x-log", "text/markdown", "text/csv", "application/json", "application/yaml"}
)


def _normal_type(value: str) -> str:
    value = (value or "").split(";")[0].strip().lower()
    return TYPE_ALIASES.get(value, value)


def upload_type(name: str, declared: str) -> str:
    """The content type an upload is checked and stored as: its extension's, else the declared one."""
    ext = os.path.splitext(name or "")[1].lower()
    by_name = EXTENSION_TYPES.get(ext)
    if by_name is None and ext:
        guessed, encoding = _PYTHON_TYPES.guess_type(f"file{ext}", strict=False)
        by_name = "application/gzip" if encoding == "gzip" else guessed
    return _normal_type(by_name or declared) or GENERIC_TYPE


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
    """A cheap look at the bytes, so a type is not just a label."""
    signatures = SIGNATURES.get(content_type)
    if signatures and not any(data[offset : offset + len(prefix)] == prefix for offset, prefix in signatures):
        raise _invalid("file", f"The file is not {SIGNATURE_NAMES[content_type]}.")
    if content_type in TEXT_TYPES:
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


def _check_allowed(site: SystemSettings, content_type: str) -> None:
    if not site.upload_type_allowed(content_type):
        raise _invalid("file", f"Files of type '{content_type}' are not accepted.")


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
    content_type = upload_type(filename, upload.content_type or "")
    # The site's list (empty: any type). Whatever the type, downloads are served safely (punt.files).
    _check_allowed(site, content_type)
    width = height = None
    thumbnail: bytes | None = None
    if content_type in PROCESSED_IMAGES:
        data, content_type, width, height, thumbnail = _process_image(data)
        _check_allowed(site, content_type)  # the format the image really is
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
