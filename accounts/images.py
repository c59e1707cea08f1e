"""Untrusted image uploads: checked and re-encoded with Pillow before anything is stored.

Re-encoding (rather than storing the upload as sent) is what strips EXIF (GPS positions,
camera serials) and any payload smuggled after the image data.

A decoded image costs width x height x up to 4 bytes whatever its file size: a 150 KB PNG
can unpack to 160 MB. So the pixel count is checked from the header before any pixel is
decoded, the work keeps one full-size copy at a time, and `image_work()` lets one image be
decoded per process at a time (attachments and avatars alike).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from punt.errors import Unavailable

_one_image_at_a_time = threading.Lock()
MIN_BLOCK_BYTES = 16 * 1024 * 1024  # Pillow's default
PAGE = 4096  # Pillow wants block sizes in whole pages
BAND_PIXELS = 1_000_000


class ImageRejected(ValueError):
    """The upload is not an image PUNT accepts; the message is safe to show to the user."""


@contextmanager
def image_work() -> Iterator[None]:
    """Hold this process's one slot for decoding and encoding images.

    Parallel uploads wait their turn, so their memory is never added up; one that waits longer
    than PUNT_IMAGE_WAIT_SECONDS gets a 503 rather than holding its worker thread any longer.
    """
    if not _one_image_at_a_time.acquire(timeout=settings.PUNT_IMAGE_WAIT_SECONDS):
        raise Unavailable("The server is busy processing other images; try again in a moment.")
    try:
        # Pillow allocates pixels in blocks (16 MB by default) that malloc keeps in each
        # thread's arena once freed, so every worker thread would hold on to its biggest image.
        # One block for the largest allowed image is mapped and unmapped whole instead (small
        # images still take only what they need).
        largest = -(-settings.PUNT_MAX_IMAGE_PIXELS * 4 // PAGE) * PAGE
        Image.core.set_block_size(max(MIN_BLOCK_BYTES, largest))
        yield
    finally:
        _one_image_at_a_time.release()


def image_open_checked(upload: UploadedFile, *, max_bytes: int | None = None, draft: int | None = None) -> Image.Image:
    """Open `upload` as an image after checking its size, pixel count and integrity, and decode it.

    The pixel limit is checked from the header, before any pixel is decoded, so a
    decompression bomb is refused without being expanded in memory. With `draft`, a JPEG is
    decoded at the smallest scale (1/2 to 1/8) that keeps both sides at least `draft` pixels.
    Call it inside `image_work()`.
    """
    limit = max_bytes if max_bytes is not None else settings.PUNT_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size == 0:
        raise ImageRejected("The file is empty.")
    if upload.size > limit:
        raise ImageRejected(f"The file is too large (at most {limit} bytes).")
    max_pixels = settings.PUNT_MAX_IMAGE_PIXELS
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise ImageRejected(f"The image has too many pixels (at most {max_pixels}).")
            # verify() finds corrupt data but leaves the image unusable, hence the second open.
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if draft is not None:
            image.draft(None, (draft, draft))
        image.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ImageRejected("The file is not a supported image.") from None
    except (OSError, SyntaxError, ValueError):
        # Pillow reports truncated or corrupt data with these.
        raise ImageRejected("The image is damaged or truncated.") from None
    return image


def image_reduced(image: Image.Image, *, box: tuple[int, int, int, int], factor: int, mode: str) -> Image.Image:
    """The `box` region of `image`, in `mode`, scaled down `factor` times; `image` stays as it is.

    Built a band of rows at a time: converting the whole image, or the premultiplying that
    Pillow does before it scales RGBA, would make a second full-size copy of its pixels.
    """
    left, top, right, bottom = box
    factor = max(1, factor)
    rows = factor * max(1, BAND_PIXELS // ((right - left) * factor))
    reduced = Image.new(mode, (-(-(right - left) // factor), -(-(bottom - top) // factor)))
    for y in range(top, bottom, rows):
        band = image.crop((left, y, right, min(y + rows, bottom))).convert(mode)
        reduced.paste(band.reduce(factor), (0, (y - top) // factor))
    return reduced


def image_to_square_webp(image: Image.Image, *, size: int, quality: int = 85) -> bytes:
    """Crop `image` to its centre square, scale it to `size`x`size` and encode it as WebP.

    The EXIF orientation is applied first (so phone photos stay upright) and then dropped
    with the rest of the metadata. Works on `image` in place: no second full-size copy.
    """
    try:
        ImageOps.exif_transpose(image, in_place=True)
        mode = "RGBA" if image.has_transparency_data else "RGB"
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        # Scaled down by whole factors to at least twice `size` first (as thumbnail() does),
        # then finished with LANCZOS on a few pixels.
        square = image_reduced(image, box=(left, top, left + side, top + side), factor=side // (size * 2), mode=mode)
        square = square.resize((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, format="WEBP", quality=quality, method=4)
    except (OSError, ValueError):
        # Exotic modes (16-bit, odd palettes) that Pillow cannot convert.
        raise ImageRejected("This kind of image is not supported.") from None
    return out.getvalue()
