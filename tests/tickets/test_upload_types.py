"""Upload types follow the site's `allowed_upload_types` (issue 17): empty accepts any type, as
its help text says; the default list holds the files teams attach, each checked by its bytes;
and whatever was accepted is served so a browser never runs it: an attachment with nosniff,
except PNG, JPEG, GIF and WebP images (never SVG), which may show inline."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings

from accounts import services as account_services
from accounts.models import DEFAULT_UPLOAD_TYPES, DOCX, PPTX, XLSX, SystemSettings
from tests.migrating import migrate_to, migrate_to_latest
from tests.tickets.helpers import url
from tests.tickets.test_attachments import png, upload
from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def zipped(member: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(member, "<xml/>")
    return out.getvalue()


def tarred() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        data = b"line 1\n"
        info = tarfile.TarInfo("build.log")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 32

# (file name, type the client declares, bytes, type PUNT stores)
NEW_TYPES = [
    ("report.csv", "text/csv", b"name,hours\nmary,3\n", "text/csv"),
    ("report.csv", "application/vnd.ms-excel", b"name,hours\n", "text/csv"),  # what Windows browsers send
    ("build.log", "text/plain", b"12:00 started\n", "text/plain"),
    ("build.log", "text/x-log", b"12:00 started\n", "text/plain"),
    ("build", "text/x-log", b"12:00 started\n", "text/x-log"),
    ("ci.yaml", "application/x-yaml", b"jobs:\n  test: {}\n", "application/yaml"),
    ("ci.yml", "application/octet-stream", b"jobs: {}\n", "application/yaml"),
    ("plan.xlsx", XLSX, zipped("xl/workbook.xml"), XLSX),
    ("spec.docx", DOCX, zipped("word/document.xml"), DOCX),
    ("deck.pptx", "application/octet-stream", zipped("ppt/presentation.xml"), PPTX),
    ("bug.mp4", "video/mp4", MP4, "video/mp4"),
    ("bug.webm", "video/webm", WEBM, "video/webm"),
    ("logs.gz", "application/x-gzip", gzip.compress(b"log"), "application/gzip"),
    ("logs.tar.gz", "application/gzip", gzip.compress(tarred()), "application/gzip"),
    ("logs.tgz", "application/octet-stream", gzip.compress(tarred()), "application/gzip"),
    ("logs.tar", "application/x-tar", tarred(), "application/x-tar"),
]
EXE = ("setup.exe", "application/x-msdownload", b"MZ\x90\x00\x03\x00\x00\x00")


def allow(types: list[str]) -> None:
    account_services.system_settings_update(by=None, allowed_upload_types=types)


def test_the_default_list_adds_the_types_teams_attach():
    expected = {"text/csv", "text/plain", "text/x-log", "application/yaml", XLSX, DOCX, PPTX}
    expected |= {"video/mp4", "video/webm", "application/gzip", "application/x-tar"}
    assert expected <= set(DEFAULT_UPLOAD_TYPES)
    assert SystemSettings().allowed_upload_types == list(DEFAULT_UPLOAD_TYPES)
    assert account_services.system_settings().allowed_upload_types == list(DEFAULT_UPLOAD_TYPES)


@pytest.mark.parametrize(("name", "declared", "data", "stored"), NEW_TYPES)
def test_the_default_list_accepts_each_new_type(personas, make_card, name, declared, data, stored):
    response = upload(personas.client("member"), make_card(), name, data, declared)
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == stored
    download = personas.client("viewer").get(response.json()["download_url"])
    assert download["Content-Type"] == stored
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "declared", "data", "message"),
    [
        (*EXE, "Files of type 'application/x-msdownload' are not accepted."),
        (
            "tool.bin",
            "application/octet-stream",
            b"\x7fELF",
            "Files of type 'application/octet-stream' are not accepted.",
        ),
        # The name decides: a page is a page whatever the client calls it.
        ("page.html", "text/plain", b"<script>alert(1)</script>", "Files of type 'text/html' are not accepted."),
        ("plan.xlsx", XLSX, b"not a zip", "The file is not an Excel workbook (.xlsx)."),
        ("bug.mp4", "video/mp4", b"MZ\x90\x00" * 4, "The file is not an MP4 video."),
        ("logs.gz", "application/gzip", b"plain", "The file is not a gzip file."),
        ("logs.tar", "application/x-tar", b"x" * 600, "The file is not a tar archive."),
        ("data.csv", "text/csv", "caf\xe9".encode("latin-1"), "Text files must be UTF-8."),
    ],
)
def test_the_default_list_refuses_other_types_and_files_that_are_not_what_they_say(
    personas, make_card, name, declared, data, message
):
    response = upload(personas.client("member"), make_card(), name, data, declared)
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "file", "message": message}]
    assert not Attachment.objects.exists()


def test_an_empty_list_accepts_any_type_and_serves_it_as_an_attachment(personas, make_card):
    allow([])
    card = make_card()
    client = personas.client("member")
    for name, declared, data in (EXE, ("firmware.bin", "application/octet-stream", b"\x00\x01\x02")):
        response = upload(client, card, name, data, declared)
        assert response.status_code == 201, response.json()
        download = client.get(response.json()["download_url"])
        assert download["Content-Disposition"] == f'attachment; filename="{name}"'
        assert download["X-Content-Type-Options"] == "nosniff"
        assert b"".join(download.streaming_content) == data
    # The types PUNT knows are still checked by their bytes.
    assert upload(client, card, "fake.pdf", b"MZ", "application/pdf").status_code == 400


def test_a_list_of_the_admins_choice_is_followed(personas, make_card):
    allow(["text/csv"])
    card = make_card()
    client = personas.client("member")
    assert upload(client, card, "a.csv", b"a,b\n", "text/csv").status_code == 201
    assert upload(client, card, "a.txt", b"a", "text/plain").status_code == 400
    # An image is checked again as the format it really is.
    allow(["image/jpeg"])
    response = upload(client, card, "really-a-png.jpg", png(), "image/jpeg")
    assert response.json()["details"][0]["message"] == "Files of type 'image/png' are not accepted."


# --------------------------------------------------------------------------- serving


def served(personas, make_card, name: str, data: bytes, declared: str):
    """(API download, page download) of a freshly uploaded file."""
    card = make_card()
    response = upload(personas.client("member"), card, name, data, declared)
    assert response.status_code == 201, response.json()
    api = personas.client("viewer").get(response.json()["download_url"])
    page = Client()
    page.force_login(personas.viewer)
    web = page.get(f"/projects/olivia/blog/tickets/{card.number}/attachments/{response.json()['id']}")
    assert (api.status_code, web.status_code) == (200, 200)
    return api, web


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("hours.csv", b"a,b\n", "text/csv"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        ("page.html", b"<script>alert(1)</script>", "text/html"),
    ],
)
def test_csv_svg_and_html_are_served_as_attachments_with_nosniff(personas, make_card, name, data, declared):
    allow([])
    for response in served(personas, make_card, name, data, declared):
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert not Attachment.objects.get().is_image  # pages show no <img> of it


def test_a_png_is_served_inline_with_nosniff(personas, make_card):
    for response in served(personas, make_card, "shot.png", png(), "image/png"):
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'inline; filename="shot.png"'
        assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(DEBUG=False)
def test_avatars_are_served_without_debug_and_attachments_never_from_media(personas, make_card):
    avatar = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (8, 8), "blue").save(avatar, "PNG")
    user = account_services.avatar_set(
        user=personas.member, upload=SimpleUploadedFile("me.png", avatar.getvalue(), content_type="image/png")
    )
    response = Client().get(user.avatar.url)
    assert response.status_code == 200
    assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("image/webp", "nosniff")
    assert response["Content-Disposition"].startswith("inline;")
    assert Client().get("/media/avatars/nobody.webp").status_code == 404
    assert Client().get("/media/avatars/..%2Fsecret").status_code == 404

    # An attachment's stored file is not public: only its permission-checked views serve it.
    response = upload(personas.client("member"), make_card(), "notes.txt", b"private", "text/plain")
    stored = Attachment.objects.get(pk=response.json()["id"]).file
    assert Client().get(stored.url).status_code == 404
    assert personas.client("outsider").get(url(f"/attachments/{response.json()['id']}/download")).status_code == 404


# --------------------------------------------------------------------------- upgrade

BEFORE = [("accounts", "0004_user_token_version")]
AFTER = [("accounts", "0005_upload_types_default")]


@pytest.mark.django_db(transaction=True)
def test_saved_settings_with_an_empty_list_keep_a_list_on_upgrade():
    # An empty list used to mean PUNT's own short list; it now means any type, so a site that
    # upgrades gets the default list rather than starting to take any file.
    try:
        old = migrate_to(BEFORE).get_model("accounts", "SystemSettings")
        old.objects.create(pk=1, allowed_upload_types=[])
        new = migrate_to(AFTER).get_model("accounts", "SystemSettings")
        assert new.objects.get().allowed_upload_types == list(DEFAULT_UPLOAD_TYPES)

        migrate_to(BEFORE).get_model("accounts", "SystemSettings").objects.update(allowed_upload_types=["image/*"])
        assert migrate_to(AFTER).get_model("accounts", "SystemSettings").objects.get().allowed_upload_types == [
            "image/*"
        ]
    finally:
        migrate_to_latest()
