"""External images in Markdown (tracking pixels) by site setting (issue 16, item 15).

PUNT_MARKDOWN_EXTERNAL_IMAGES=block (the default) turns an image from another site into a
link to it; our own images (attachments under /media/, relative URLs, SITE_URL) stay.
"allow" shows them, and the Content-Security-Policy's img-src follows the same setting.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tickets.helpers import url
from tests.web.conftest import page_client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PIXEL = "https://tracker.example/p.gif?u=42&t=1"
BODY = (
    f"Look ![pixel]({PIXEL}) and ![shot](/media/attachments/shot.png)\n\n"
    '<img src="//cdn.example/x.png" alt="raw"> <img src="/\\evil.example/y.png">\n\n'
    "[![badge](https://ci.example/badge.svg)](https://ci.example/run)\n\n"
    "![own](https://punt.example/media/a.png)"
)


def post_comment(personas, make_card, body: str = BODY) -> str:
    card = make_card()
    response = personas.client("member").post(url(f"/cards/{card.pk}/comments"), {"body": body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["body_html"]


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://punt.example"


def test_default_setting_blocks_external_images():
    from django.conf import settings

    assert settings.PUNT_MARKDOWN_EXTERNAL_IMAGES == "block"


def test_blocked_external_images_become_links_and_own_images_stay(personas, make_card, settings):
    settings.PUNT_MARKDOWN_EXTERNAL_IMAGES = "block"
    body_html = post_comment(personas, make_card)
    assert body_html == (
        '<p>Look <a href="https://tracker.example/p.gif?u=42&amp;t=1" rel="noopener noreferrer nofollow">'
        'image: pixel</a> and <img alt="shot" src="/media/attachments/shot.png"></p>\n'
        '<p><a href="//cdn.example/x.png" rel="noopener noreferrer nofollow">image: raw</a> '
        '<a href="/\\evil.example/y.png" rel="noopener noreferrer nofollow">image: /\\evil.example/y.png</a></p>\n'
        '<p><a href="https://ci.example/run" rel="noopener noreferrer nofollow">image: badge</a></p>\n'
        '<p><img alt="own" src="https://punt.example/media/a.png"></p>'
    )


def test_blocked_images_on_the_ticket_page(personas, make_card, settings):
    settings.PUNT_MARKDOWN_EXTERNAL_IMAGES = "block"
    card = make_card()
    personas.client("member").post(url(f"/cards/{card.pk}/comments"), {"body": f"![pixel]({PIXEL})"}, format="json")
    html = page_client(personas, "member").get(f"/projects/olivia/blog/tickets/{card.number}").content.decode()
    assert "tracker.example" in html
    assert not re.search(r"<img[^>]*tracker\.example", html)
    link = '<a href="https://tracker.example/p.gif?u=42&amp;t=1" rel="noopener noreferrer nofollow">image: pixel</a>'
    assert link in html


def test_allowed_external_images_stay_images(personas, make_card, settings):
    settings.PUNT_MARKDOWN_EXTERNAL_IMAGES = "allow"
    body_html = post_comment(personas, make_card, f"![pixel]({PIXEL})")
    assert body_html == '<p><img alt="pixel" src="https://tracker.example/p.gif?u=42&amp;t=1"></p>'


def settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = "import punt.settings as s; print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PUNT_TESTING": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("choice", "https_images"), [("block", False), ("allow", True), ("", False)])
def test_csp_img_src_follows_the_setting(choice: str, https_images: bool):
    result = settings_in_a_fresh_process(PUNT_MARKDOWN_EXTERNAL_IMAGES=choice)
    assert result.returncode == 0, result.stderr
    img_src = result.stdout.split()
    assert ("https:" in img_src) is https_images
    assert "'self'" in img_src and "data:" in img_src


def test_a_bad_setting_fails_at_start_up():
    result = settings_in_a_fresh_process(PUNT_MARKDOWN_EXTERNAL_IMAGES="proxy-maybe")
    assert result.returncode != 0
    assert "PUNT_MARKDOWN_EXTERNAL_IMAGES must be one of block, allow" in result.stderr


def test_page_policy_blocks_external_images_by_default(personas):
    response = page_client(personas, "member").get("/projects/olivia/blog/")
    img_src = next(p for p in response["Content-Security-Policy"].split(";") if p.strip().startswith("img-src"))
    assert "https:" not in img_src.split()
