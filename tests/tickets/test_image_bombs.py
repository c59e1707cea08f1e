"""Image uploads cannot stall or exhaust a server (issue 16, item 4).

A PNG of one solid colour compresses about a thousand times: 150 KB can decode to 160 MB.
Uploads are checked from the header against a pixel limit, decoded one at a time per process,
and worked on without a second full-size copy. The peak RSS of this test process, reset
before each upload (/proc/self/clear_refs), shows the memory an upload really takes.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.tickets.helpers import postgres_only, url
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

SIDE = 3000
DECODED_MB = SIDE * SIDE * 4 / 2**20  # RGBA: 34 MiB
# One decoded copy plus what the request, the encoders and the thumbnail take besides.
BUDGET_MB = 2.5 * DECODED_MB

needs_peak_rss = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="resetting the peak RSS needs Linux's /proc/self/clear_refs"
)


def bomb(side: int = SIDE, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (side, side), 200).save(out, format="PNG")
    return out.getvalue()


def _status_mb(key: str) -> float:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(key))
    return int(line.split()[1]) / 1024


def peak_rss_growth_mb(work) -> float:
    """How far the process's resident memory rose above its current size while `work` ran."""
    before = _status_mb("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak, to the current RSS
    work()
    return _status_mb("VmHWM:") - before


def upload(client, card, data: bytes, name: str = "bomb.png"):
    return client.post(
        url(f"/cards/{card.pk}/attachments"),
        {"file": SimpleUploadedFile(name, data, content_type="image/png")},
        format="multipart",
    )


@pytest.fixture
def bomb_limit(settings):
    settings.PUNT_MAX_IMAGE_PIXELS = SIDE * SIDE


@needs_peak_rss
def test_one_bomb_costs_one_copy_of_its_pixels(personas, make_card, bomb_limit):
    card = make_card()
    data = bomb()
    assert len(data) < 200_000
    responses = []

    growth = peak_rss_growth_mb(lambda: responses.append(upload(personas.client("member"), card, data)))

    assert responses[0].status_code == 201, responses[0].content
    assert responses[0].json()["width"] == SIDE
    assert growth < BUDGET_MB, f"one {SIDE}x{SIDE} upload took {growth:.0f} MB (budget {BUDGET_MB:.0f} MB)"


@needs_peak_rss
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_three_parallel_bombs_take_no_more_memory_than_one(personas, bomb_limit):
    from tickets import services

    card = services.ticket_create(project=personas.project, by=personas.member, title="Bombs")
    data = bomb()
    statuses: list[int] = []

    def three_at_once() -> None:
        def one() -> None:
            from django.db import connection

            try:
                statuses.append(upload(personas.client("member"), card, data).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    growth = peak_rss_growth_mb(three_at_once)

    assert statuses == [201, 201, 201]
    assert Attachment.objects.filter(ticket=card).count() == 3
    assert growth < BUDGET_MB, f"three parallel uploads took {growth:.0f} MB (budget {BUDGET_MB:.0f} MB)"


def test_the_default_limit_refuses_a_40_megapixel_image_from_its_header(personas, make_card):
    card = make_card()
    response = upload(personas.client("member"), card, bomb(6300, mode="L"))
    assert response.status_code == 400
    # Pillow's own check of the header (over the limit, under twice it) says it first.
    assert response.json()["details"] == [
        {"field": "file", "message": "The image has too many pixels (at most 25000000)."}
    ]
    assert Attachment.objects.count() == 0


def test_an_upload_that_waits_too_long_for_its_turn_gets_a_503(personas, make_card, settings):
    from accounts.images import image_work

    settings.PUNT_IMAGE_WAIT_SECONDS = 1
    card = make_card()
    client = personas.client("member")
    with image_work():  # another upload is being processed
        busy = upload(client, card, bomb(64))
    assert busy.status_code == 503
    assert busy.json() == {"error": "The server is busy processing other images; try again in a moment."}
    assert upload(client, card, bomb(64)).status_code == 201
