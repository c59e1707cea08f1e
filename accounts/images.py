"""Untrusted image uploads: checked and re-encoded with Pillow before anything is stored.

Re-encoding (rather than storing the upload as sent) is what strips EXIF (GPS positions,
camera serials) and any payload smuggled after the image data.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageRejected(ValueError):
    """The upload is not an image PUNT accepts; the message is safe to show to the user."""


def image_open_checked(upload: UploadedFile, *, max_bytes: int | None = None) -> Image.Image:
    """Open `upload` as an image after checking its size, pixel count and integrity.

    The pixel limit is checked from the header, before any pixel is decoded, so a
    decompression bomb is refused without being expanded in memory.
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
        image.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ImageRejected("The file is not a supported image.") from None
    except (OSError, SyntaxError, ValueError):
        # Pillow reports truncated or corrupt data with these.
        raise ImageRejected("The image is damaged or truncated.") from None
    return image


def image_to_square_webp(image: Image.Image, *, size: int, quality: int = 85) -> bytes:
    """Crop `image` to its centre square, scale it to `size`x`size` and encode it as WebP.

    The EXIF orientation is applied first (so phone photos stay upright) and then dropped
    with the rest of the metadata.
    """
    try:
        image = ImageOps.exif_transpose(image) or image
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
        image = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=quality, method=4)
    except (OSError, ValueError):
        # Exotic modes (16-bit, odd palettes) that Pillow cannot convert.
        raise ImageRejected("This kind of image is not supported.") from None
    return out.getvalue()
