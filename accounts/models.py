"""Users and their roles.

A custom user model from day one (Django's own advice): every user has one
role, and a partner user is bound to exactly one partner company, which the
API uses to keep partners apart.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Delivery coordinator")
    PARTNER = "partner", _("Partner crew")
    SUPPORT = "support", _("Support operator")


def _is_latin(text: str) -> bool:
    return all(ord(char) < 0x250 for char in text)


def person_name(*, family: str, given: str) -> str:
    """A person's full name from its parts, in the order its script is written.

    A name in Japanese (kanji, kana, or any non-Latin script) is written
    family name first, "村上 悠斗", in the Japanese and the English UI alike
    (Japanese business practice). A name in Latin letters keeps the Western
    order, "Sam Taylor": whether "Yuto Murakami" is Japanese cannot be told
    from the letters, so it is shown as entered.
    """
    family, given = family.strip(), given.strip()
    if _is_latin(family + given):
        return f"{given} {family}".strip()
    return f"{family} {given}".strip()


class User(AbstractUser):
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.COORDINATOR
    )
    partner_company = models.ForeignKey(
        "dispatch.PartnerCompany",
        verbose_name=_("partner company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_role_valid",
                condition=Q(role__in=[r.value for r in Role]),
            ),
            # A partner user without a company could see nothing or, worse, be
            # mistaken for a coordinator; a non-partner with one is ambiguous.
            models.CheckConstraint(
                name="user_partner_has_company",
                condition=(Q(role=Role.PARTNER) & Q(partner_company__isnull=False))
                | (~Q(role=Role.PARTNER) & Q(partner_company__isnull=True)),
            ),
        ]

    def get_full_name(self) -> str:
        """The name as people write it: "村上 悠斗" for a Japanese name, family name first.

        Django's default puts the given name first ("悠斗 村上"), which no
        Japanese reader would write. See :func:`person_name`.
        """
        return person_name(family=self.last_name, given=self.first_name)

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT


def default_token_expiry() -> dt.datetime:
    """Now plus ``API_TOKEN_LIFETIME_DAYS``: the longest a token may live."""
    return timezone.now() + dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)


class ApiToken(models.Model):
    """A machine client's token: stored hashed, shown once, revocable at once, expiring.

    Only the SHA-256 of the secret is kept, so a leaked database does not leak
    working credentials; the short prefix lets a user tell tokens apart. A
    token that leaks unnoticed still stops working at ``expires_at``.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), default=default_token_expiry)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(name="api_token_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
