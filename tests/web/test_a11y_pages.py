"""Accessibility pieces every page carries (issue 18, items 6 and 8), checked without a browser.

The skip link is the first thing in <body> and leads to <main id="main">; the favicon is
linked and /favicon.ico answers; a label's text colour is black or white by the label's
luminance; axe-core is a test tool, never loaded by a page.
"""

from __future__ import annotations

import re

import pytest

from projects import services as project_services
from tests.web.conftest import page_client
from web.templatetags.punt_web import label_text

pytestmark = pytest.mark.django_db


def contrast(a: str, b: str) -> float:
    def luminance(color: str) -> float:
        digits = color.lstrip("#")
        digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("color", "text"),
    [
        ("#84CC16", "#000"),  # lime: white on it was 1.97:1
        ("#1E3A8A", "#fff"),
        ("#FDE047", "#000"),
        ("#7C3AED", "#fff"),
        ("#fff", "#000"),
        ("000", "#fff"),
    ],
)
def test_label_text_is_black_or_white_by_luminance(color, text):
    assert label_text(color) == text
    assert contrast(color, text) >= 4.5


def test_label_text_picks_the_better_of_the_two_for_every_grey():
    for level in range(0, 256, 5):
        color = f"#{level:02x}{level:02x}{level:02x}"
        other = "#fff" if label_text(color) == "#000" else "#000"
        assert contrast(color, label_text(color)) >= contrast(color, other)


@pytest.mark.parametrize("bad", ["", "red", "#12345", "url(x)", "#ggg", None])
def test_label_text_of_a_bad_colour_is_white(bad):
    assert label_text(bad) == "#fff"


def test_labels_carry_their_text_colour(personas, board_url):
    project_services.label_create(project=personas.project, name="lime", color="#84CC16", by=personas.owner)
    html = page_client(personas, "owner").get(board_url + "settings").content.decode()
    assert 'style="--lc: #84CC16; --lt: #000"' in html


@pytest.mark.parametrize("path", ["/", "/projects/", "/settings/", "/messages/", "/projects/olivia/blog/"])
def test_skip_link_is_first_and_leads_to_main(personas, path):
    html = page_client(personas, "member").get(path).content.decode()
    body = html.split("<body", 1)[1].split(">", 1)[1]
    first_link = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body)
    assert first_link is not None and 'class="skip-link" href="#main"' in first_link.group(0)
    assert re.search(r'<main id="main" tabindex="-1"', html)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert "axe" not in html


def test_login_page_has_the_skip_link_too(client):
    html = client.get("/login/").content.decode()
    assert 'class="skip-link"' in html and 'id="main"' in html


def test_favicon_ico_leads_to_the_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
