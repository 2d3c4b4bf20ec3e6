"""The project's ModelSerializer: what it reads from the models, the schema states truthfully."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose read-only choice fields that may be blank say so.

    DRF drops ``allow_blank`` from a field listed in ``read_only_fields``, so
    drf-spectacular documented e.g. a run's ``decision`` as one of
    ``accepted``/``discarded`` while an undecided run answers ``""``. Keeping
    the flag makes the schema admit the blank value the API really sends
    (tests/api/test_schema_contract.py checks every such field).
    """

    def include_extra_kwargs(
        self, kwargs: dict[str, Any], extra_kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        blank_choice = bool(kwargs.get("allow_blank") and kwargs.get("choices"))
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs
