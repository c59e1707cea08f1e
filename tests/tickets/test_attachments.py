from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.tickets.helpers import url
from tickets import services
from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 10))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(client, card, name: str, data: bytes, content_type: str):
    return client.post(
        url(f"/cards/{card.pk}/attachments"),
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )


def test_role_matrix(personas, make_card):
    card = make_card()
    attachment = services.attachment_add(
        ticket=card, by=personas.member, upload=SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
    )
    for path in (f"/cards/{card.pk}/attachments", f"/attachments/{attachment.pk}/download"):
        assert personas.matrix("get", url(path)) == {
            "anonymous": 401,
            "outsider": 404,
            "viewer": 200,
            "member": 200,
            "admin": 200,
            "owner": 200,
        }
    statuses = {}
    for role in ["anonymous", "outsider", "viewer", "member", "admin", "owner"]:
        response = upload(personas.client(role), card, "n.txt", b"notes", "text/plain")
        statuses[role] = response.status_code
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}

    current: dict[str, Attachment] = {}

    def fresh() -> None:
        current["a"] = services.attachment_add(
            ticket=card, by=personas.member, upload=SimpleUploadedFile("d.txt", b"bye", content_type="text/plain")
        )

    # Uploaded by mary: she and the admins may delete it.
    assert personas.matrix("delete", lambda role: url(f"/attachments/{current['a'].pk}"), fresh=fresh) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_image_is_reencoded_without_exif_with_a_thumbnail(personas, make_card):
    card = make_card()
    client = personas.client("member")
    data = jpeg_with_exif()
    assert Image.open(io.BytesIO(data)).getexif()  # the fixture does carry EXIF
    response = upload(client, card, "../../photo.jpg", data, "image/jpeg")
    assert response.status_code == 201, response.json()
    body = response.json()
    attachment = Attachment.objects.get()
    assert body == {
        "id": attachment.pk,
        "card_id": card.pk,
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "size": attachment.size,
        "width": 40,
        "height": 30,
        "is_image": True,
        "download_url": f"/api/v1/projects/blog/attachments/{attachment.pk}/download",
        "thumbnail_url": f"/api/v1/projects/blog/attachments/{attachment.pk}/thumbnail",
        "uploaded_by": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "created_at": body["created_at"],
    }
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    stored = b"".join(download.streaming_content)
    assert b"SpyCam" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    thumb = client.get(body["thumbnail_url"])
    assert thumb["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).format == "WEBP"
    assert client.get(url(f"/cards/{card.pk}")).json()["counts"]["attachments"] == 1
    assert card.events.filter(kind="action", text="attach").exists()


def test_non_images_download_as_attachments(personas, make_card):
    card = make_card()
    client = personas.client("member")
    response = upload(client, card, "report.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    assert response.status_code == 201
    download = client.get(response.json()["download_url"])
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.json()["thumbnail_url"] is None


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        ("evil.html", b"<script>alert(1)</script>", "text/html", "Files of type 'text/html' are not accepted."),
        ("evil.svg", b"<svg onload=alert(1)>", "image/svg+xml", "Files of type 'image/svg+xml' are not accepted."),
        ("fake.png", b"not really a png", "image/png", "The file is not a valid image."),
        ("fake.pdf", b"MZ\x90\x00", "application/pdf", "The file is not a PDF."),
        ("bad.json", b"{nope", "application/json", "The file is not valid JSON."),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "text/plain", "Text files must be UTF-8."),
        ("empty.txt", b"", "text/plain", "The submitted file is empty."),
    ],
)
def test_refused_uploads(personas, make_card, name, data, content_type, message):
    card = make_card()
    response = upload(personas.client("member"), card, name, data, content_type)
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "file", "message": message}]
    assert Attachment.objects.count() == 0


def test_size_limit(personas, make_card, settings):
    settings.PUNT_MAX_UPLOAD_BYTES = 100
    card = make_card()
    response = upload(personas.client("member"), card, "big.txt", b"x" * 101, "text/plain")
    assert response.status_code == 413
    assert response.json() == {"error": "The file is larger than the limit of 100 bytes."}
    assert upload(personas.client("member"), card, "ok.txt", b"x" * 100, "text/plain").status_code == 201


def test_decompression_bomb_is_refused(personas, make_card, settings):
    settings.PUNT_MAX_IMAGE_PIXELS = 1000
    card = make_card()
    response = upload(personas.client("member"), card, "bomb.png", png((100, 100)), "image/png")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "file"
    assert Attachment.objects.count() == 0


def test_delete_removes_the_file(personas, make_card, django_capture_on_commit_callbacks):
    card = make_card()
    client = personas.client("member")
    response = upload(client, card, "pic.png", png(), "image/png")
    attachment = Attachment.objects.get(pk=response.json()["id"])
    storage = attachment.file.storage
    names = [attachment.file.name, attachment.thumbnail.name]
    assert all(storage.exists(name) for name in names)
    # admin (not the uploader) may delete; another member may not.
    from tests.factories import MembershipFactory, UserFactory

    other = MembershipFactory(project=personas.project, user=UserFactory(username="max")).user
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.force_authenticate(other)
    assert other_client.delete(url(f"/attachments/{attachment.pk}")).status_code == 403
    # Files go only once the deletion commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client("admin").delete(url(f"/cards/{card.pk}/attachments/{attachment.pk}"))
    assert response.status_code == 204
    assert not any(storage.exists(name) for name in names)
    assert client.get(url(f"/attachments/{attachment.pk}/download")).status_code == 404


def test_role_matrix_for_metadata_and_thumbnail(personas, make_card):
    card = make_card()
    image = services.attachment_add(
        ticket=card, by=personas.member, upload=SimpleUploadedFile("p.png", png(), content_type="image/png")
    )
    readers = {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
    assert personas.matrix("get", url(f"/attachments/{image.pk}")) == readers
    assert personas.matrix("get", url(f"/cards/{card.pk}/attachments/{image.pk}")) == readers
    assert personas.matrix("get", url(f"/attachments/{image.pk}/thumbnail")) == readers
    text = services.attachment_add(
        ticket=card, by=personas.member, upload=SimpleUploadedFile("t.txt", b"hi", content_type="text/plain")
    )
    assert personas.client("viewer").get(url(f"/attachments/{text.pk}/thumbnail")).status_code == 404
