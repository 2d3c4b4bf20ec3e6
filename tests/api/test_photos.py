"""Crews' photos: what an upload must be, what is stored of it, and who sees it.

Partner A's crew has a visit of job A on Monday (tests.api.conftest); the
tests run "on" that Monday unless they say otherwise. Files go to a fresh
directory per test.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Job
from sites.models import PhotoKind, SitePhoto
from tests.api.conftest import MONDAY, Cast

URL = "/api/v1/photos/"
ClientFor = Callable[[User | None], APIClient]

MAKE, MODEL, ORIENTATION, GPS_IFD, EXIF_IFD = 0x010F, 0x0110, 0x0112, 0x8825, 0x8769


# --- images ------------------------------------------------------------------------------


def a_jpeg(
    width: int = 800, height: int = 600, *, exif: Image.Exif | None = None, noisy: bool = False
) -> bytes:
    image = (
        Image.effect_noise((width, height), 60).convert("RGB")
        if noisy
        else Image.new("RGB", (width, height), (200, 40, 40))
    )
    if not noisy:
        image.paste((30, 30, 200), (0, 0, width // 2, height // 2))  # blue top-left quarter
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def a_png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 200, 10, 128)).save(out, "PNG")
    return out.getvalue()


def gps_exif(*, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Apple"
    exif[MODEL] = "iPhone 15 Pro"
    exif[GPS_IFD] = {1: "N", 2: (35.0, 41.0, 22.5), 3: "E", 4: (139.0, 41.0, 30.25)}
    exif[EXIF_IFD] = {0x9003: "2026:11:30 10:15:00", 0x9011: "+09:00"}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG that is only a header saying it is ``width`` × ``height`` (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes(1024))  # a few rows' worth: the rest would be made up
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


@pytest.fixture(autouse=True)
def on_monday(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is the day of the cast's visits."""
    real = timezone.localdate

    def localdate(value: Any = None, timezone: Any = None) -> dt.date:
        return MONDAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(
    client: APIClient,
    job: Job,
    data: bytes,
    *,
    key: str | None = "key-1",
    name: str = "IMG_0001.jpg",
    content_type: str = "image/jpeg",
    kind: str = PhotoKind.MEDIA_CONVERTER,
    caption: str = "1F MDF 右側",
) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        URL,
        {
            "job": job.pk,
            "kind": kind,
            "caption": caption,
            "file": SimpleUploadedFile(name, data, content_type),
        },
        format="multipart",
        **headers,
    )


def refused_file(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == ["file"], error
    return str(error["fields"]["file"][0])


# --- a good upload ---------------------------------------------------------------------------


def test_a_partner_uploads_a_photo_of_its_visit(
    cast: Cast, client_for: ClientFor, storage: Path
) -> None:
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg())

    assert response.status_code == 201, response.content
    body = response.json()
    photo = SitePhoto.objects.get()
    assert set(body) == {
        "id", "job", "site", "kind", "caption", "width", "height", "bytes", "url",
        "thumbnail_url", "taken_at", "uploaded_by", "created_at",
    }  # fmt: skip
    assert body["id"] == photo.pk
    assert (body["job"], body["site"]) == (cast.job_a.pk, cast.job_a.site_id)
    assert (body["kind"], body["caption"]) == ("media_converter", "1F MDF 右側")
    assert (body["width"], body["height"]) == (800, 600)
    assert body["uploaded_by"] == cast.partner_a.pk
    assert body["url"].endswith(f"/api/v1/photos/{photo.pk}/image/")
    assert body["thumbnail_url"].endswith(f"/api/v1/photos/{photo.pk}/thumbnail/")
    assert photo.company_id == cast.company_a.pk
    assert len(stored_files(storage)) == 2
    thumbnail = Image.open(storage / str(photo.thumbnail.name))
    assert max(thumbnail.size) == 320 and thumbnail.format == "JPEG"


def test_a_png_stays_a_png_and_keeps_its_transparency(
    cast: Cast, client_for: ClientFor, storage: Path
) -> None:
    response = upload(client_for(cast.partner_a), cast.job_a, a_png(), name="x.png")

    assert response.status_code == 201, response.content
    stored = Image.open(storage / str(SitePhoto.objects.get().file.name))
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (300, 200))


# --- what is refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("これは写真ではありません\n".encode(), id="text named .jpg"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", id="pdf"),
        pytest.param(b"GIF89a" + bytes(64), id="broken gif"),
    ],
)
def test_a_file_that_is_not_an_image_by_its_content_is_refused(
    cast: Cast, client_for: ClientFor, storage: Path, data: bytes
) -> None:
    response = upload(client_for(cast.partner_a), cast.job_a, data, content_type="image/jpeg")

    assert "not a JPEG, PNG or WebP image" in refused_file(response)
    assert not SitePhoto.objects.exists() and not stored_files(storage)


def test_a_gif_is_an_image_but_not_one_we_keep(cast: Cast, client_for: ClientFor) -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 200)).save(out, "GIF")
    response = upload(client_for(cast.partner_a), cast.job_a, out.getvalue(), name="a.jpg")

    assert "not a JPEG, PNG or WebP image" in refused_file(response)


def test_a_file_over_the_size_limit_is_refused_with_413(
    cast: Cast, client_for: ClientFor, settings: Any, storage: Path
) -> None:
    data = a_jpeg(noisy=True)
    settings.PHOTO_MAX_BYTES = len(data) - 1

    response = upload(client_for(cast.partner_a), cast.job_a, data)

    assert response.json()["error"]["code"] == "payload_too_large"
    assert "larger than" in refused_file(response, 413)
    assert not stored_files(storage)


def test_a_body_announced_far_over_the_limit_is_refused_before_it_is_read(
    cast: Cast, client_for: ClientFor, settings: Any
) -> None:
    settings.PHOTO_MAX_BYTES = 1000
    response = client_for(cast.partner_a).post(
        URL, {"job": cast.job_a.pk}, format="multipart", CONTENT_LENGTH="900000"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_truncated_jpeg_is_refused(cast: Cast, client_for: ClientFor, storage: Path) -> None:
    whole = a_jpeg(noisy=True)
    response = upload(client_for(cast.partner_a), cast.job_a, whole[: len(whole) // 2])

    assert "damaged or incomplete" in refused_file(response)
    assert not SitePhoto.objects.exists() and not stored_files(storage)


def test_an_image_smaller_than_64_px_a_side_is_refused(cast: Cast, client_for: ClientFor) -> None:
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg(400, 40))

    assert "at least 64 px" in refused_file(response)


def test_an_image_with_too_many_pixels_is_refused(
    cast: Cast, client_for: ClientFor, settings: Any
) -> None:
    settings.PHOTO_MAX_PIXELS = 400 * 300 - 1
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg(400, 300))

    assert "megapixels" in refused_file(response)


def test_an_image_wider_than_the_limit_is_refused(
    cast: Cast, client_for: ClientFor, settings: Any
) -> None:
    settings.PHOTO_MAX_SIDE = 500
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg(600, 100))

    assert "at most 500 px a side" in refused_file(response)


@pytest.mark.parametrize(
    "side", [8_000, 13_000, 100_000], ids=["64 megapixels", "over the side limit", "a bomb"]
)
def test_a_header_claiming_huge_dimensions_is_refused_without_decoding(
    cast: Cast, client_for: ClientFor, side: int
) -> None:
    data = png_header_claiming(side, side)
    response = upload(client_for(cast.partner_a), cast.job_a, data, name="a.png")

    message = refused_file(response)
    assert "megapixels" in message or "at most 12000 px a side" in message


def test_bad_fields_are_named(cast: Cast, client_for: ClientFor) -> None:
    response = upload(
        client_for(cast.partner_a), cast.job_a, a_jpeg(), kind="roof", caption="x" * 301
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"kind", "caption"}


# --- metadata ----------------------------------------------------------------------------------


def test_gps_and_device_exif_are_stripped_and_only_the_time_taken_is_kept(
    cast: Cast, client_for: ClientFor, storage: Path
) -> None:
    data = a_jpeg(exif=gps_exif())
    assert b"iPhone 15 Pro" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)

    response = upload(client_for(cast.partner_a), cast.job_a, data)

    assert response.status_code == 201, response.content
    assert response.json()["taken_at"] == "2026-11-30T10:15:00+09:00"
    for path in stored_files(storage):  # the image and its thumbnail
        raw = path.read_bytes()
        stored = Image.open(path)
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(GPS_IFD)
        assert "exif" not in stored.info and "xmp" not in stored.info
        assert b"Exif" not in raw and b"iPhone" not in raw and b"Apple" not in raw


def test_the_exif_orientation_is_applied_to_the_pixels(
    cast: Cast, client_for: ClientFor, storage: Path
) -> None:
    # Stored landscape with "rotate 90° clockwise to display": the crew held the phone upright.
    data = a_jpeg(200, 100, exif=gps_exif(orientation=6))

    response = upload(client_for(cast.partner_a), cast.job_a, data)

    assert (response.json()["width"], response.json()["height"]) == (100, 200)
    stored = Image.open(storage / str(SitePhoto.objects.get().file.name)).convert("RGB")
    assert stored.size == (100, 200)
    red, _green, blue = stored.getpixel((90, 5))  # type: ignore[misc]  # blue quarter: top-right
    assert blue > 150 and red < 100


# --- retries -------------------------------------------------------------------------------------


def test_a_retried_upload_is_stored_once(cast: Cast, client_for: ClientFor, storage: Path) -> None:
    client = client_for(cast.partner_a)
    data = a_jpeg()
    first = upload(client, cast.job_a, data, key="phone-7f9c")
    again = upload(client, cast.job_a, data, key="phone-7f9c")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert SitePhoto.objects.count() == 1
    assert len(stored_files(storage)) == 2


def test_a_retry_after_a_connection_broken_before_the_commit_is_stored_once(
    cast: Cast, client_for: ClientFor, storage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request dies after writing the files, before its row commits."""
    client = client_for(cast.partner_a)
    data = a_jpeg()
    create = SitePhoto.objects.create
    calls = []

    def dying_create(**fields: Any) -> SitePhoto:
        calls.append(fields)
        if len(calls) == 1:
            assert len(stored_files(storage)) == 2  # the files were written...
            raise OperationalError("server closed the connection unexpectedly")
        return create(**fields)

    monkeypatch.setattr(SitePhoto.objects, "create", dying_create)
    broken = upload(client, cast.job_a, data, key="phone-1")
    assert broken.status_code == 503
    assert not SitePhoto.objects.exists() and not stored_files(storage)  # ...and removed

    retried = upload(client, cast.job_a, data, key="phone-1")
    answered_again = upload(client, cast.job_a, data, key="phone-1")

    assert (retried.status_code, answered_again.status_code) == (201, 200)
    assert SitePhoto.objects.count() == 1
    assert len(stored_files(storage)) == 2


def test_a_retry_is_answered_even_after_the_upload_window_closed(
    cast: Cast, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(cast.partner_a)
    data = a_jpeg()
    assert upload(client, cast.job_a, data, key="late").status_code == 201
    monkeypatch.setattr("api.photos.views.upload_window", _window_on(MONDAY + dt.timedelta(30)))

    assert upload(client, cast.job_a, data, key="late").status_code == 200
    assert upload(client, cast.job_a, data, key="new").status_code == 400


def test_the_same_key_with_another_file_is_a_conflict(cast: Cast, client_for: ClientFor) -> None:
    client = client_for(cast.partner_a)
    assert upload(client, cast.job_a, a_jpeg(), key="k").status_code == 201

    response = upload(client, cast.job_a, a_jpeg(640, 480), key="k")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert response.json()["error"]["photo_id"] == SitePhoto.objects.get().pk


def test_the_same_key_of_another_user_is_another_photo(cast: Cast, client_for: ClientFor) -> None:
    assert upload(client_for(cast.partner_a), cast.job_a, a_jpeg(), key="k").status_code == 201
    assert upload(client_for(cast.coordinator), cast.job_a, a_jpeg(), key="k").status_code == 201
    assert SitePhoto.objects.count() == 2


def test_a_partner_must_send_an_idempotency_key(cast: Cast, client_for: ClientFor) -> None:
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg(), key=None)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]


# --- who may upload -----------------------------------------------------------------------------


def test_a_partner_cannot_upload_to_another_partners_job(cast: Cast, client_for: ClientFor) -> None:
    response = upload(client_for(cast.partner_b), cast.job_a, a_jpeg())

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"job": ["no such job"]}
    missing = upload(client_for(cast.partner_b), Job(pk=999_999), a_jpeg())
    assert missing.json()["error"]["fields"] == {"job": ["no such job"]}  # same answer


@pytest.mark.parametrize(
    ("today", "accepted"),
    [
        (MONDAY - dt.timedelta(days=1), False),  # the visit is tomorrow
        (MONDAY, True),
        (MONDAY + dt.timedelta(days=14), True),
        (MONDAY + dt.timedelta(days=15), False),  # too long ago
    ],
)
def test_a_partner_uploads_from_the_visit_day_until_14_days_after(
    cast: Cast,
    client_for: ClientFor,
    monkeypatch: pytest.MonkeyPatch,
    today: dt.date,
    accepted: bool,
) -> None:
    monkeypatch.setattr("api.photos.views.upload_window", _window_on(today))
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg())

    assert (response.status_code == 201) is accepted, response.content
    if not accepted:
        assert list(response.json()["error"]["fields"]) == ["job"]


def _window_on(today: dt.date) -> Callable[..., tuple[dt.date, dt.date]]:
    from api.photos import views

    real = views.upload_window
    return lambda day=None: real(today)


def test_a_coordinator_uploads_to_any_job_and_support_may_not(
    cast: Cast, client_for: ClientFor
) -> None:
    coordinator = upload(client_for(cast.coordinator), cast.job_b, a_jpeg(), key=None)
    support = upload(client_for(cast.support), cast.job_b, a_jpeg())

    assert coordinator.status_code == 201, coordinator.content
    assert SitePhoto.objects.get().company_id is None
    assert support.status_code == 403


# --- who sees what -------------------------------------------------------------------------------


@pytest.fixture
def photo_of_a(cast: Cast, client_for: ClientFor) -> dict[str, Any]:
    response = upload(client_for(cast.partner_a), cast.job_a, a_jpeg(), caption="MC 1F")
    assert response.status_code == 201, response.content
    return response.json()


def test_another_partner_finds_nothing_of_a_photo(
    cast: Cast, client_for: ClientFor, photo_of_a: dict[str, Any]
) -> None:
    client = client_for(cast.partner_b)
    pk = photo_of_a["id"]

    assert client.get(URL).json()["count"] == 0
    assert client.get(URL, {"site": cast.job_a.site_id}).json()["count"] == 0
    for path in (f"{URL}{pk}/", f"{URL}{pk}/image/", f"{URL}{pk}/thumbnail/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ["partner_a", "support", "coordinator"])
def test_the_owner_support_and_coordinators_see_the_photo_and_its_bytes(
    cast: Cast, client_for: ClientFor, photo_of_a: dict[str, Any], role: str
) -> None:
    client = client_for(getattr(cast, role))
    pk = photo_of_a["id"]

    listed = client.get(URL, {"site": cast.job_a.site_id, "job": cast.job_a.pk}).json()
    assert [p["id"] for p in listed["results"]] == [pk]
    assert client.get(f"{URL}{pk}/").json()["caption"] == "MC 1F"
    image = client.get(f"{URL}{pk}/image/", HTTP_ACCEPT="image/avif,image/webp,*/*")
    thumbnail = client.get(f"{URL}{pk}/thumbnail/")
    assert (image.status_code, image["Content-Type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(b"".join(image.streaming_content))).size == (800, 600)
    assert max(Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))).size) == 320
    assert image["X-Content-Type-Options"] == "nosniff"


def test_support_and_coordinators_list_every_companys_photos(
    cast: Cast, client_for: ClientFor, photo_of_a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert upload(client_for(cast.coordinator), cast.job_b, a_jpeg(), key=None).status_code == 201
    for user in (cast.support, cast.coordinator):
        assert client_for(user).get(URL).json()["count"] == 2
    assert client_for(cast.partner_a).get(URL).json()["count"] == 1


def test_anonymous_callers_get_nothing(cast: Cast, photo_of_a: dict[str, Any]) -> None:
    client = APIClient()
    for path in (URL, f"{URL}{photo_of_a['id']}/", f"{URL}{photo_of_a['id']}/image/"):
        assert client.get(path).status_code == 401


def test_media_is_not_served_publicly(photo_of_a: dict[str, Any]) -> None:
    from django.test import Client

    name = SitePhoto.objects.get().file.name
    assert Client().get(f"/media/photos/{name}").status_code == 404
    assert Client().get(f"/media/{name}").status_code == 404


# --- pages ---------------------------------------------------------------------------------------


def test_the_support_card_shows_the_photos_in_the_as_built_section(
    cast: Cast, photo_of_a: dict[str, Any]
) -> None:
    from django.test import Client

    client = Client()
    client.force_login(cast.support)
    page = client.get("/support/", {"site": cast.job_a.site_id}).content.decode()

    as_built = page[page.index('class="asbuilt"') : page.index('id="survey-title"')]
    pk = photo_of_a["id"]
    assert f'href="/api/v1/photos/{pk}/image/"' in as_built
    assert f'src="/api/v1/photos/{pk}/thumbnail/"' in as_built
    assert "MC 1F" in as_built and "Media converter" in as_built
    assert cast.company_a.name in as_built


def test_the_job_drawer_shows_the_sites_photos(cast: Cast, photo_of_a: dict[str, Any]) -> None:
    from django.test import Client

    client = Client()
    client.force_login(cast.coordinator)
    page = client.get(f"/jobs/{cast.job_a.pk}/drawer/").content.decode()

    pk = photo_of_a["id"]
    assert f'src="/api/v1/photos/{pk}/thumbnail/"' in page
    assert "photo-this-job" in page and "MC 1F" in page


def test_deleting_photos_deletes_their_files(
    cast: Cast, client_for: ClientFor, storage: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(cast.partner_a)
    assert upload(client, cast.job_a, a_jpeg(), key="one").status_code == 201
    assert upload(client, cast.job_a, a_png(), key="two").status_code == 201
    assert len(stored_files(storage)) == 4

    with django_capture_on_commit_callbacks(execute=True):
        SitePhoto.objects.first().delete()  # type: ignore[union-attr]
    assert len(stored_files(storage)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        SitePhoto.objects.all().delete()  # as a cascade from the site does
    assert not stored_files(storage)
