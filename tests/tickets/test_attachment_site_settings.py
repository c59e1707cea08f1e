"""Attachments follow the site's upload settings (size limit, allowed types)."""

from __future__ import annotations

from accounts.services import system_settings_update
from tests.tickets.test_attachments import png, upload


def test_uploads_follow_the_site_size_limit_and_types(personas, make_card):
    card = make_card()
    client = personas.client("member")
    system_settings_update(by=personas.owner, allowed_upload_types=["application/pdf"])

    refused = upload(client, card, "pic.png", png(), "image/png")
    assert refused.status_code == 400
    assert "image/png" in refused.json()["details"][0]["message"]

    system_settings_update(by=personas.owner, allowed_upload_types=["image/*"], max_upload_bytes=1024)
    too_big = upload(client, card, "pic.png", png((400, 400)) + b"\0" * 2048, "image/png")
    assert too_big.status_code == 413

    system_settings_update(by=personas.owner, max_upload_bytes=10 * 1024 * 1024)
    assert upload(client, card, "pic.png", png(), "image/png").status_code == 201
