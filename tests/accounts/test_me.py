"""The signed-in user's profile and avatar (/api/v1/users/me*)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.accounts.helpers import bearer, error_shape, login
from tests.factories import UserFactory


def _image(fmt: str = "PNG", size: tuple[int, int] = (400, 300), *, exif: bool = False, mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SpyCam"  # Make
        data[0x0131] = "secret-software"  # Software
        image.save(out, format=fmt, exif=data.tobytes())
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def _upload(data: bytes, name: str = "me.png") -> dict:
    return {"avatar": SimpleUploadedFile(name, data)}


def test_me_shape(alice):
    alice.global_roles = ["metrics"]
    alice.is_staff = True
    alice.save()
    response = bearer(login()["access_token"]).get("/api/v1/users/me")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "display_name": "Alice Liddell",
        "name": "Alice Liddell",
        "avatar": None,
        "global_roles": ["admin", "metrics"],
        "date_joined": body["date_joined"],
    }


def test_me_update(alice):
    client = bearer(login()["access_token"])
    response = client.put("/api/v1/users/me", {"display_name": "  Al  ", "email": "al@example.org"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Al"
    assert response.json()["name"] == "Al"
    assert response.json()["email"] == "al@example.org"
    # Leaving a field out leaves it alone; the username cannot be changed here.
    response = client.put("/api/v1/users/me", {"display_name": "Alice", "username": "mallory"})
    assert response.json()["email"] == "al@example.org"
    assert response.json()["username"] == "alice"
    alice.refresh_from_db()
    assert (alice.display_name, alice.email, alice.username) == ("Alice", "al@example.org", "alice")


def test_me_update_validation(alice):
    UserFactory(username="bob", email="bob@example.com")
    client = bearer(login()["access_token"])
    for data, field in (({"email": "nope"}, "email"), ({"email": "BOB@example.com"}, "email")):
        response = client.put("/api/v1/users/me", data)
        assert response.status_code == 400
        error_shape(response.json(), details=True)
        assert response.json()["details"][0]["field"] == field
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_avatar_upload_is_a_256px_webp_without_exif(alice):
    client = bearer(login()["access_token"])
    response = client.post("/api/v1/users/me/avatar", _upload(_image("JPEG", exif=True), "me.jpg"), format="multipart")
    assert response.status_code == 200, response.content
    url = response.json()["avatar"]
    assert url.endswith(".webp")
    alice.refresh_from_db()
    with alice.avatar.open("rb") as handle:
        stored = handle.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "WEBP"
    assert image.size == (256, 256)
    assert not image.getexif()
    assert b"SpyCam" not in stored and b"secret-software" not in stored
    assert client.get("/api/v1/users/me").json()["avatar"] == url


def test_avatar_replace_and_delete_remove_old_files(alice, django_capture_on_commit_callbacks):
    client = bearer(login()["access_token"])
    client.post("/api/v1/users/me/avatar", _upload(_image()), format="multipart")
    alice.refresh_from_db()
    storage, first = alice.avatar.storage, alice.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/users/me/avatar", _upload(_image("PNG", (50, 80), mode="RGBA")), format="multipart"
        )
    assert response.status_code == 200
    alice.refresh_from_db()
    second = alice.avatar.name
    assert second != first
    assert not storage.exists(first)
    assert storage.exists(second)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete("/api/v1/users/me/avatar")
    assert response.status_code == 204
    assert not storage.exists(second)
    assert client.get("/api/v1/users/me").json()["avatar"] is None


def test_avatar_rejects_bad_uploads(alice, settings):
    client = bearer(login()["access_token"])
    settings.PUNT_MAX_IMAGE_PIXELS = 100 * 100
    too_many_pixels = client.post("/api/v1/users/me/avatar", _upload(_image(size=(101, 100))), format="multipart")
    settings.PUNT_MAX_UPLOAD_BYTES = 200
    too_big = client.post("/api/v1/users/me/avatar", _upload(b"x" * 201), format="multipart")
    settings.PUNT_MAX_UPLOAD_BYTES = 10_000_000
    not_an_image = client.post(
        "/api/v1/users/me/avatar", _upload(b"GIF89a but not really", "x.gif"), format="multipart"
    )
    truncated = client.post("/api/v1/users/me/avatar", _upload(_image("PNG")[:200]), format="multipart")
    missing = client.post("/api/v1/users/me/avatar", {}, format="multipart")
    for response in (too_many_pixels, too_big, not_an_image, truncated, missing):
        assert response.status_code == 400, response.content
        error_shape(response.json(), details=True)
        assert response.json()["details"][0]["field"] == "avatar"
    alice.refresh_from_db()
    assert not alice.avatar


def test_me_needs_authentication(api_client, db):
    for method in ("get", "put"):
        response = getattr(api_client, method)("/api/v1/users/me")
        assert response.status_code == 401
    assert api_client.post("/api/v1/users/me/avatar", {}, format="multipart").status_code == 401


def test_avatar_keeps_transparency_and_accepts_odd_modes(alice):
    client = bearer(login()["access_token"])
    cases = [("RGBA", "PNG", "RGBA"), ("LA", "PNG", "RGBA"), ("P", "PNG", "RGB"), ("L", "PNG", "RGB")]
    cases += [("CMYK", "JPEG", "RGB"), ("I;16", "PNG", "RGB")]
    for mode, fmt, stored_mode in cases:
        out = io.BytesIO()
        Image.new(mode, (30, 90)).save(out, format=fmt)
        response = client.post("/api/v1/users/me/avatar", _upload(out.getvalue()), format="multipart")
        assert response.status_code == 200, (mode, response.content)
        alice.refresh_from_db()
        with alice.avatar.open("rb") as handle:
            stored = Image.open(io.BytesIO(handle.read()))
            assert (stored.format, stored.size, stored.mode) == ("WEBP", (256, 256), stored_mode), mode
