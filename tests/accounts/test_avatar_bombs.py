"""Avatar uploads take a bounded amount of memory (issue 16, item 4).

A JPEG is decoded at the smallest scale an avatar needs (Image.draft); other images are
cropped and scaled a band at a time, without a second full-size copy. See
tests/tickets/test_image_bombs.py for how the peak RSS is measured.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.accounts.helpers import bearer, login
from tests.accounts.test_me import _upload
from tests.tickets.test_image_bombs import needs_peak_rss, peak_rss_growth_mb

pytestmark = needs_peak_rss


def _photo(fmt: str, size: tuple[int, int], mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 200).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "size", "mode", "budget_mb"),
    [
        # 4000x3000 RGB is 34 MiB decoded; at 1/8 scale, half a MiB.
        pytest.param("JPEG", (4000, 3000), "RGB", 12, id="jpeg-drafted"),
        # 3000x3000 RGBA is 34 MiB decoded: one copy of it, and little besides.
        pytest.param("PNG", (3000, 3000), "RGBA", 60, id="png-one-copy"),
    ],
)
def test_a_large_avatar_takes_bounded_memory(alice, settings, fmt, size, mode, budget_mb):
    settings.PUNT_MAX_IMAGE_PIXELS = size[0] * size[1]
    client = bearer(login()["access_token"])
    data = _photo(fmt, size, mode)
    responses = []

    growth = peak_rss_growth_mb(
        lambda: responses.append(
            client.post("/api/v1/users/me/avatar", _upload(data, f"me.{fmt.lower()}"), format="multipart")
        )
    )

    assert responses[0].status_code == 200, responses[0].content
    assert growth < budget_mb, f"the avatar took {growth:.0f} MB (budget {budget_mb} MB)"
    alice.refresh_from_db()
    with Image.open(alice.avatar) as stored:
        assert (stored.format, stored.size) == ("WEBP", (256, 256))
