"""Uploads in production (DEBUG off): avatars for everyone, attachments only for who may read the project.

Both carry caching headers and validators: a browser or CDN asking again gets a 304.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings
from PIL import Image

from accounts import services as account_services
from tests.conftest import Personas
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services
from tickets.models import Attachment, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("production")]

BASE = "/projects/olivia/blog"


@pytest.fixture
def production():
    with override_settings(DEBUG=False):
        yield


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return ticket_services.ticket_create(project=personas.project, by=personas.member, title="Has files")


@pytest.fixture
def attachment(personas: Personas, ticket: Ticket) -> Attachment:
    upload = SimpleUploadedFile("notes.txt", b"private notes", content_type="text/plain")
    return ticket_services.attachment_add(ticket=ticket, by=personas.member, upload=upload)


def file_url(ticket: Ticket, attachment: Attachment) -> str:
    return f"{BASE}/tickets/{ticket.number}/attachments/{attachment.pk}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_avatar_loads_for_anyone_with_public_caching(personas: Personas):
    user = account_services.avatar_set(
        user=personas.member, upload=SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")
    )
    response = Client().get(user.avatar.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=86400"
    etag = response["ETag"]
    assert body(response)[:4] == b"RIFF"
    again = Client().get(user.avatar.url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag


def test_an_attachment_loads_for_members_and_is_404_for_everyone_else(
    personas: Personas, ticket: Ticket, attachment: Attachment
):
    url = file_url(ticket, attachment)
    assert page_matrix(personas, "GET", url) == {
        "anonymous": 404,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    response = page_client(personas, "viewer").get(url)
    assert body(response) == b"private notes"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] and response["Last-Modified"]
    # The stored file has no public address.
    assert Client().get(f"/media/{attachment.file.name}").status_code == 404
    assert page_client(personas, "member").get(f"/media/{attachment.file.name}").status_code == 404


def test_an_attachment_revalidates_with_a_304(personas: Personas, ticket: Ticket, attachment: Attachment):
    client = page_client(personas, "member")
    first = client.get(file_url(ticket, attachment))
    by_etag = client.get(file_url(ticket, attachment), HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304
    assert by_etag["Cache-Control"] == "private, max-age=3600" and by_etag["ETag"] == first["ETag"]
    by_date = client.get(file_url(ticket, attachment), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304
    # A 304 is only for who may read it: an outsider with the ETag still gets a 404.
    outsider = page_client(personas, "outsider").get(file_url(ticket, attachment), HTTP_IF_NONE_MATCH=first["ETag"])
    assert outsider.status_code == 404


def test_an_image_attachment_and_its_thumbnail(personas: Personas, ticket: Ticket):
    upload = SimpleUploadedFile("shot.png", png_bytes(), content_type="image/png")
    image = ticket_services.attachment_add(ticket=ticket, by=personas.member, upload=upload)
    client = page_client(personas, "member")
    response = client.get(file_url(ticket, image))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("inline;")
    thumb = client.get(file_url(ticket, image) + "?thumb=1")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert thumb["ETag"] != response["ETag"]


def test_the_api_download_has_the_same_headers(personas: Personas, ticket: Ticket, attachment: Attachment):
    url = f"/api/v1/projects/blog/attachments/{attachment.pk}/download"
    response = personas.client("member").get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=3600" and response["ETag"]
    assert personas.client("member").get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert personas.client("outsider").get(url).status_code == 404


def test_the_ticket_page_links_to_the_checked_view(personas: Personas, ticket: Ticket, attachment: Attachment):
    html = page_client(personas, "member").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert f'href="{file_url(ticket, attachment)}"' in html
    assert "/media/attachments" not in html
