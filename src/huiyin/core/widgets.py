"""Select widgets for model choices that a script (huiyin/pickers.js) can narrow or search;
without the script they are plain grouped selects (<optgroup>) that work as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.db.models import Model


class GroupedSelect(forms.Select):
    """A model choice's options under headings (``group``), each carrying data attributes
    (``option_data``: ``{"department": "3"}`` → ``data-department="3"``) and, if given, its
    own ``label``. Options whose group is None and the empty choice stay on top, ungrouped."""

    def __init__(
        self,
        attrs: Mapping[str, Any] | None = None,
        *,
        group: Callable[[Any], str | None] | None = None,
        option_data: Callable[[Any], Mapping[str, object]] | None = None,
        label: Callable[[Any], str] | None = None,
    ):
        super().__init__(attrs=dict(attrs or {}))
        self.group = group
        self.option_data = option_data
        self.label = label

    def optgroups(self, name: str, value: list[str], attrs: dict[str, Any] | None = None) -> list:
        grouped: dict[str, list[dict[str, Any]]] = {}
        result: list[tuple[str | None, list[dict[str, Any]], int | None]] = []
        for group_name, options, index in super().optgroups(name, value, attrs):
            if group_name is not None:  # choices that came grouped already
                result.append((group_name, options, index))
                continue
            for option in options:
                instance = getattr(option["value"], "instance", None)
                if not isinstance(instance, Model):
                    result.append((None, [option], index))
                    continue
                if self.option_data is not None:
                    option["attrs"] = {
                        **option["attrs"],
                        **{f"data-{key}": str(v) for key, v in self.option_data(instance).items()},
                    }
                if self.label is not None:
                    option["label"] = self.label(instance)
                heading = self.group(instance) if self.group is not None else None
                if heading is None:
                    result.append((None, [option], index))
                    continue
                if heading not in grouped:
                    grouped[heading] = []
                    result.append((heading, grouped[heading], index))
                grouped[heading].append(option)
        return result
