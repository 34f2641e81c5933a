"""One small helper for the staff forms: read what was typed, keep it, and collect errors.

Every admin form follows the same loop — parse, check, call the use case, and on failure show
the same form again with the user's input and a message next to each field — so that loop
lives here once instead of in every view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask import request

from issuer.services.errors import Invalid

HTTP_URL = re.compile(r"^https?://[^\s/]+\S*$")


def row_name(prefix: str, index: int, key: str) -> str:
    """The form name of one cell in a repeated group, e.g. ``alignment-0-target_url``."""
    return f"{prefix}-{index}-{key}"


def row_names(prefix: str, count: int, keys: Iterable[str]) -> list[str]:
    keys = tuple(keys)
    return [row_name(prefix, i, key) for i in range(count) for key in keys]


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


@dataclass
class Form:
    """The values of one submitted (or prefilled) form and what is wrong with them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Problems that belong to no single field, shown above the form.
    general: list[str] = field(default_factory=list)

    @classmethod
    def from_request(cls, names: Iterable[str]) -> Form:
        """Read the named fields of the posted form; absent fields read as empty."""
        return cls({name: request.form.get(name, "") for name in names})

    @property
    def valid(self) -> bool:
        return not self.errors and not self.general

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def optional(self, name: str) -> str | None:
        """The stripped value, or None when the field was left empty."""
        value = self.get(name).strip()
        return value or None

    def required(self, name: str, message: str) -> str | None:
        value = self.optional(name)
        if value is None:
            self.error(name, message)
        return value

    def url(self, name: str, *, required: bool = False, what: str = "") -> str | None:
        """An http(s) URL; ``what`` names the field in the message (for repeated rows)."""
        prefix = f"{what}: " if what else ""
        value = self.optional(name)
        if value is None:
            if required:
                self.error(name, f"{prefix}enter a web address")
            return None
        if not HTTP_URL.match(value) or len(value) > 500:
            self.error(name, f"{prefix}enter a full web address starting with https://")
            return None
        return value

    def error(self, name: str | None, message: str) -> None:
        """Note a problem; the first one found for a field is the one shown."""
        if name is None:
            self.general.append(_sentence(message))
        else:
            self.errors.setdefault(name, _sentence(message))

    def absorb(self, exc: Invalid, rename: Mapping[str, str | None] | None = None,
               labels: Mapping[str, str] | None = None) -> None:
        """Attach a use case's ``Invalid`` to the fields it names.

        ``rename`` maps the use case's field names to form names (None: not a form field,
        so the message goes above the form). With a single field the use case's full sentence
        is shown, since it says more than the short per-field note. The use cases speak of
        fields by their internal names ("criteria_url must be …"); ``labels`` swaps those for
        the words on the form.
        """
        rename = rename or {}
        labels = labels or {}
        fields = exc.fields or {}
        if not fields:
            self.error(None, exc.message)
            return
        for key, note in fields.items():
            name = rename.get(key, key)
            message = exc.message if len(fields) == 1 else f"{key}: {note}"
            if key in labels and message.startswith(key):
                message = labels[key] + message[len(key):]
            self.error(name, message)


__all__ = ["HTTP_URL", "Form", "row_name", "row_names"]
