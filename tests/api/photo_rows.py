"""Photo rows for the API-wide tests (matrix, schema): rows only, their files never stored.

The bytes endpoints answer 404 for such a row (its file is missing), which is
enough for who-gets-in and schema checks; tests/api/test_photos.py stores real files.
"""

from __future__ import annotations

from accounts.models import Role, User
from dispatch.models import Job
from sites.models import PhotoKind, SitePhoto


def a_photo_row(job: Job, by: User, caption: str = "") -> SitePhoto:
    return SitePhoto.objects.create(
        site_id=job.site_id,
        job=job,
        kind=PhotoKind.MEDIA_CONVERTER,
        caption=caption,
        file=f"test/{job.pk}/missing.jpg",
        thumbnail=f"test/{job.pk}/missing-thumb.jpg",
        content_type="image/jpeg",
        width=800,
        height=600,
        bytes=1000,
        sha256="0" * 64,
        uploaded_by=by,
        company_id=by.partner_company_id if by.role == Role.PARTNER else None,
    )
