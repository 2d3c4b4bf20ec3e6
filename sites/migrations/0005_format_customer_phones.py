"""Customers' phone numbers stored before numbers were formatted on the way in.

The API and the import store ``03-5259-3118`` (phonenumbers' national
format, ``sites.normalize.parse_phone``); rows written earlier may hold
``0352593118``, ``03(5259)3118`` or full-width digits. This formats every
number that parses as a valid Japanese one the same way and leaves any
other text as it is: a person wrote it, and only a person can fix it.

The rule is copied here rather than imported, so this migration keeps doing
what it did when it was written.
"""

import unicodedata

import phonenumbers
from django.db import migrations

BATCH = 500


def formatted(text):
    """``text`` as a stored phone number, or ``None`` when it is not a valid Japanese one."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 81 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def format_phones(apps, schema_editor):
    Customer = apps.get_model("sites", "Customer")
    changed = []
    rows = Customer.objects.exclude(phone="", phone_alt="").only("pk", "phone", "phone_alt")
    for customer in rows.order_by("pk").iterator(chunk_size=BATCH):
        dirty = False
        for field in ("phone", "phone_alt"):
            value = getattr(customer, field)
            new = formatted(value) if value else None
            if new is not None and new != value:
                setattr(customer, field, new)
                dirty = True
        if dirty:
            changed.append(customer)
        if len(changed) >= BATCH:
            Customer.objects.bulk_update(changed, ["phone", "phone_alt"])
            changed = []
    if changed:
        Customer.objects.bulk_update(changed, ["phone", "phone_alt"])


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0004_access_calendars_lunch"),
    ]

    # Formatting is not undone: the formatted number is the same number.
    operations = [migrations.RunPython(format_phones, migrations.RunPython.noop, elidable=True)]
