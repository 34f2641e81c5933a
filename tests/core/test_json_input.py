"""Strict JSON for input: one value per member name, or the document is refused."""

from __future__ import annotations

import json

import pytest

from issuer.core.errors import InputError
from issuer.core.json_input import DuplicateMember, parse_json, unique_members


def test_json_is_read() -> None:
    assert parse_json('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert parse_json(b'{"a": 1}') == {"a": 1}


@pytest.mark.parametrize("text", ['{"proof": 1, "proof": 2}', '{"a": {"b": 1, "b": 1}}',
                                  '[{"x": 1, "x": 2}]'])
def test_a_member_named_twice_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="appears twice"):
        parse_json(text)


def test_the_hook_fails_as_other_json_errors_do() -> None:
    # Callers that read JSON themselves (request bodies) catch ValueError for every error.
    with pytest.raises(ValueError, match="'a' appears twice"):
        json.loads('{"a": 1, "a": 2}', object_pairs_hook=unique_members)
    assert issubclass(DuplicateMember, ValueError)


@pytest.mark.parametrize(("text", "words"), [("{", "not valid JSON"),
                                             ("[" * 100_000 + "]" * 100_000, "nested too deeply")])
def test_what_is_not_json_is_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_json(text)
