"""Users and their roles.

A custom user model from day one (Django's own advice): every user has one
role, and a partner user is bound to exactly one partner company, which the
API uses to keep partners apart.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Delivery coordinator")
    PARTNER = "partner", _("Partner crew")
    SUPPORT = "support", _("Support operator")


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

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT
