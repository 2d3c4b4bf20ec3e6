"""Crews' photos of a site: check, clean, store and find them.

An upload is trusted for nothing: its type comes from its content (Pillow
reads it; the name and the Content-Type are ignored), its size, dimensions and
pixel count are bounded (``PHOTO_*`` settings; the pixel bound is checked from
the header, before anything is decoded, so a decompression bomb never
allocates), and a file that does not decode to the end is refused.

What is stored is the pixels and nothing else: the image is turned upright
(EXIF orientation) and re-encoded without EXIF, GPS, XMP, comments or ICC
profile, as JPEG (quality ``PHOTO_JPEG_QUALITY``) or PNG for a PNG, with a
JPEG thumbnail (``PHOTO_THUMBNAIL_SIDE`` on the long side). The one fact kept
from the metadata is when it was taken (``taken_at``), read before it is dropped.

Files go through Django's storage API (the ``photos`` storage: filesystem or
S3, see ``config/settings.py``). The row is written in the same transaction
as the files: when the database refuses the row, the files are deleted again,
so a failed request leaves nothing behind and its retry starts clean. A retry
with the same ``Idempotency-Key`` by the same user answers the stored photo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Role, User
from core.errors import INVALID_INPUT, DomainError

from .models import Site, SitePhoto

#: Formats accepted, by what Pillow finds in the bytes.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
DATETIME = 0x0132


class PhotoRejected(DomainError):
    """The upload is not a photo we keep: wrong type, damaged, too small or too large."""

    code = "invalid"
    status = INVALID_INPUT

    def __init__(self, message: str, *, field: str | None = "file", **details: Any) -> None:
        super().__init__(message, field=field, **details)


class PhotoTooLarge(PhotoRejected):
    """The file is larger than ``PHOTO_MAX_BYTES`` (413, like every too large body)."""

    code = "payload_too_large"
    status = 413


class PhotoKeyReused(DomainError):
    """The Idempotency-Key was already used by this user for another photo."""

    code = "idempotency_key_reused"

    def __init__(self, photo_id: int) -> None:
        super().__init__(
            _(
                "this Idempotency-Key was already used for a different photo; "
                "use a new key for a new photo"
            ),
            photo_id=photo_id,
        )


def photo_storage() -> Storage:
    return storages["photos"]


# --- reading and cleaning ------------------------------------------------------------


@dataclass(frozen=True)
class CleanPhoto:
    """An accepted upload, re-encoded: what gets stored."""

    image: bytes
    extension: str
    content_type: str
    thumbnail: bytes
    width: int
    height: int
    sha256: str
    taken_at: dt.datetime | None


def read_upload(upload: IO[bytes], *, size: int | None = None) -> bytes:
    """The upload's bytes, refusing more than ``PHOTO_MAX_BYTES`` before reading them all."""
    limit = settings.PHOTO_MAX_BYTES
    if size is not None and size > limit:
        raise photo_too_large()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise photo_too_large()
    if not data:
        raise PhotoRejected(_("the file is empty"))
    return data


def photo_too_large() -> PhotoTooLarge:
    return PhotoTooLarge(
        _("the photo is larger than %(limit)s MB")
        % {"limit": f"{settings.PHOTO_MAX_BYTES / 1024 / 1024:g}"}
    )


def upload_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _taken_at(image: Image.Image) -> dt.datetime | None:
    """When the photo was taken, from EXIF DateTimeOriginal (else DateTime), if sane."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(EXIF_IFD)
        text = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
        offset = sub.get(OFFSET_TIME_ORIGINAL)
        if not isinstance(text, str):
            return None
        stamp = text.strip("\x00 ")[:19]
        zone = offset.strip("\x00 ") if isinstance(offset, str) else ""
        if zone:
            moment = dt.datetime.strptime(f"{stamp}{zone}", "%Y:%m:%d %H:%M:%S%z")
        else:  # no offset recorded: the camera's clock was in the service's time zone
            moment = timezone.make_aware(
                dt.datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
            )
    except (ValueError, TypeError, KeyError, OverflowError, SyntaxError):
        return None
    now = timezone.now()
    if moment.year < 2000 or moment > now + dt.timedelta(days=1):
        return None  # a camera with its clock unset
    return moment


def _check_dimensions(width: int, height: int) -> None:
    low, high, pixels = settings.PHOTO_MIN_SIDE, settings.PHOTO_MAX_SIDE, settings.PHOTO_MAX_PIXELS
    if min(width, height) < low:
        raise PhotoRejected(
            _("the image is %(width)s × %(height)s px; each side must be at least %(min)s px")
            % {"width": width, "height": height, "min": low}
        )
    if max(width, height) > high or width * height > pixels:
        raise PhotoRejected(
            _(
                "the image is %(width)s × %(height)s px; at most %(max)s px a side and "
                "%(megapixels)s megapixels"
            )
            % {"width": width, "height": height, "max": high, "megapixels": pixels // 1_000_000}
        )


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.info = {}  # no EXIF, XMP, ICC profile, comments...: pixels only
    image.save(out, fmt, **options)
    return out.getvalue()


def _flattened(image: Image.Image) -> Image.Image:
    """RGB (or L) for JPEG: transparency laid on white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def photo_clean(data: bytes) -> CleanPhoto:
    """Check the bytes and re-encode them without metadata, with a thumbnail.

    Raises ``PhotoRejected`` for anything but a whole JPEG, PNG or WebP image
    within the bounds.
    """
    not_an_image = _("the file is not a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise PhotoRejected(not_an_image) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # The header alone claims more than Pillow's own bound: a decompression bomb.
        raise PhotoRejected(
            _("the image has too many pixels (at most %(megapixels)s megapixels)")
            % {"megapixels": settings.PHOTO_MAX_PIXELS // 1_000_000}
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(not_an_image) from exc
    with source:
        if source.format not in ACCEPTED_FORMATS:
            raise PhotoRejected(not_an_image)
        _check_dimensions(*source.size)  # from the header: nothing decoded yet
        fmt = source.format
        taken_at = _taken_at(source)
        try:
            source.load()
            upright = ImageOps.exif_transpose(source)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise PhotoRejected(
                _("the image is damaged or incomplete (was the upload cut off?)")
            ) from exc
    if fmt == "PNG":
        keep_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        clean = upright.convert(
            "RGBA" if keep_alpha else "L" if upright.mode in ("1", "L") else "RGB"
        )
        image = _encode(clean, "PNG", optimize=True)
        extension, content_type = "png", "image/png"
    else:
        clean = _flattened(upright)
        image = _encode(clean, "JPEG", quality=settings.PHOTO_JPEG_QUALITY, optimize=True)
        extension, content_type = "jpg", "image/jpeg"
    small = _flattened(clean).copy()
    side = settings.PHOTO_THUMBNAIL_SIDE
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    thumbnail = _encode(small, "JPEG", quality=80, optimize=True)
    return CleanPhoto(
        image=image,
        extension=extension,
        content_type=content_type,
        thumbnail=thumbnail,
        width=clean.width,
        height=clean.height,
        sha256=upload_sha256(data),
        taken_at=taken_at,
    )


# --- storing ---------------------------------------------------------------------------


def earlier_photo(*, by: User, idempotency_key: str | None) -> SitePhoto | None:
    if not idempotency_key:
        return None
    return SitePhoto.objects.filter(uploaded_by=by, idempotency_key=idempotency_key).first()


def _replay(photo: SitePhoto, request: dict[str, Any]) -> SitePhoto:
    """The stored photo when the retry asks for exactly it; else the key was reused."""
    stored = {"sha256": photo.sha256, "job_id": photo.job_id, "kind": photo.kind}
    if {**stored, "caption": photo.caption} != request:
        raise PhotoKeyReused(photo.pk)
    return photo


def photo_add(
    *,
    site: Site,
    job_id: int | None,
    kind: str,
    caption: str,
    data: bytes,
    by: User,
    idempotency_key: str | None = None,
) -> tuple[SitePhoto, bool]:
    """Store a photo of ``site`` (taken on job ``job_id``); returns it and whether it is new.

    A retry (same user, same ``idempotency_key``, same file and fields) answers
    the stored photo and writes nothing; the key with anything else raises
    ``PhotoKeyReused``. Must run outside any transaction (the files are
    deleted when the row does not commit, which only a durable block knows).
    """
    sha256 = upload_sha256(data)
    request = {"sha256": sha256, "job_id": job_id, "kind": kind, "caption": caption}
    found = earlier_photo(by=by, idempotency_key=idempotency_key)
    if found is not None:
        return _replay(found, request), False
    clean = photo_clean(data)
    storage = photo_storage()
    stem = f"{site.pk}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    written: list[str] = []
    try:
        with transaction.atomic(durable=True):
            written.append(storage.save(f"{stem}.{clean.extension}", ContentFile(clean.image)))
            written.append(storage.save(f"{stem}-thumb.jpg", ContentFile(clean.thumbnail)))
            photo = SitePhoto.objects.create(
                site=site,
                job_id=job_id,
                kind=kind,
                caption=caption,
                file=written[0],
                thumbnail=written[1],
                content_type=clean.content_type,
                width=clean.width,
                height=clean.height,
                bytes=len(clean.image),
                sha256=sha256,
                uploaded_by=by,
                company_id=by.partner_company_id if by.role == Role.PARTNER else None,
                idempotency_key=idempotency_key,
                taken_at=clean.taken_at,
            )
    except BaseException as exc:
        # Nothing committed: nothing may stay in the storage either.
        for name in written:
            storage.delete(name)
        if isinstance(exc, IntegrityError):
            # The same key sent twice at once: the other request won; answer its photo.
            found = earlier_photo(by=by, idempotency_key=idempotency_key)
            if found is not None:
                return _replay(found, request), False
        raise
    return photo, True


# --- reading -----------------------------------------------------------------------------


def photos_visible_to(user: User | Any) -> QuerySet[SitePhoto]:
    """What ``user`` may see: partners their own company's uploads; support, coordinators all."""
    photos = SitePhoto.objects.select_related("uploaded_by", "company", "job")
    role = getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None
    if role is None:
        return photos.none()
    if role == Role.PARTNER:
        return photos.filter(company_id=user.partner_company_id or 0)
    return photos


def site_photos(site_id: int, *, limit: int = 48) -> list[SitePhoto]:
    """A site's photos, newest first, for pages only support and coordinators open."""
    return list(
        SitePhoto.objects.filter(site_id=site_id).select_related("job", "company", "uploaded_by")[
            :limit
        ]
    )
