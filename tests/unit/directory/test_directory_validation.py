from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.directory import validation
from bridge.errors import InvalidInput, LimitExceeded
from bridge.storage.interfaces import Tag


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (validation.user_name, "a"),
        (validation.user_name, "x" * 64),
        (validation.user_name, "alice+ops=1,a.b@c_d-e"),
        (validation.role_name, "r" * 64),
        (validation.group_name, "g" * 128),
        (validation.policy_name, "p" * 128),
        (validation.path, "/"),
        (validation.path, "/eng/ops/"),
        (validation.path, "/" + "a" * 510 + "/"),
        (validation.path_prefix, "/eng"),
        (validation.description, "d" * 1000),
        (validation.account_id, "000000000000"),
    ],
    ids=[
        "user-1",
        "user-64",
        "user-alphabet",
        "role-64",
        "group-128",
        "policy-128",
        "path-root",
        "path-nested",
        "path-512",
        "prefix",
        "description-1000",
        "account",
    ],
)
def test_accepts(check: Callable[[str], str], value: str):
    assert check(value) == value


@pytest.mark.parametrize(
    ("check", "value", "field", "rule"),
    [
        (validation.user_name, "", "user_name", "1 to 64"),
        (validation.user_name, "x" * 65, "user_name", "1 to 64"),
        (validation.user_name, "ali ce", "user_name", "may contain only"),
        (validation.user_name, "élodie", "user_name", "may contain only"),
        (validation.role_name, "r" * 65, "role_name", "1 to 64"),
        (validation.group_name, "g" * 129, "group_name", "1 to 128"),
        (validation.policy_name, "p/q", "policy_name", "may contain only"),
        (validation.path, "eng/", "path", "begin and end"),
        (validation.path, "/eng", "path", "begin and end"),
        (validation.path, "/a b/", "path", "begin and end"),
        (validation.path, "/" + "a" * 511 + "/", "path", "512"),
        (validation.path_prefix, "eng", "path_prefix", "begin with"),
        (validation.description, "d" * 1001, "description", "1000"),
        (validation.description, "tab\u2028", "description", "printable"),
        (validation.account_id, "12345678901", "account_id", "12 digits"),
        (validation.account_id, "12345678901a", "account_id", "12 digits"),
    ],
    ids=[
        "user-empty",
        "user-65",
        "user-space",
        "user-non-ascii",
        "role-65",
        "group-129",
        "policy-slash",
        "path-no-leading",
        "path-no-trailing",
        "path-space",
        "path-too-long",
        "prefix-no-slash",
        "description-1001",
        "description-separator",
        "account-11",
        "account-letter",
    ],
)
def test_rejects(check: Callable[[str], str], value: str, field: str, rule: str):
    with pytest.raises(InvalidInput) as caught:
        check(value)
    assert caught.value.field == field
    assert rule in caught.value.detail


@pytest.mark.parametrize(
    ("value", "ok"),
    [(3599, False), (3600, True), (43200, True), (43201, False)],
    ids=["below", "minimum", "maximum", "above"],
)
def test_max_session_duration(value: int, ok: bool):
    if ok:
        assert validation.max_session_duration(value) == value
    else:
        with pytest.raises(InvalidInput) as caught:
            validation.max_session_duration(value)
        assert caught.value.field == "max_session_duration"


@pytest.mark.parametrize(
    "tags",
    [
        [Tag("team", "Platform Ops")],
        [Tag("k" * 128, "v" * 256)],
        [Tag("empty", "")],
        [Tag("équipe", "café 42_.:/=+-@")],
        [Tag(f"k{i}", "v") for i in range(50)],
    ],
    ids=["plain", "maximum-lengths", "empty-value", "unicode-letters", "fifty"],
)
def test_tags_accepted(tags: list[Tag]):
    assert validation.tags(tags) == tuple(tags)


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        ([Tag("", "v")], "tags[0].key"),
        ([Tag("k" * 129, "v")], "tags[0].key"),
        ([Tag("k", "v" * 257)], "tags[0].value"),
        ([Tag("ok", "v"), Tag("bad!", "v")], "tags[1].key"),
        ([Tag("k", "semi;colon")], "tags[0].value"),
        ([Tag("aws:owner", "v")], "tags[0].key"),
        ([Tag("Team", "a"), Tag("team", "b")], "tags[1].key"),
        ([Tag(f"k{i}", "v") for i in range(51)], "tags"),
    ],
    ids=[
        "empty-key",
        "long-key",
        "long-value",
        "bad-key-char",
        "bad-value-char",
        "reserved-prefix",
        "duplicate-any-case",
        "fifty-one",
    ],
)
def test_tags_rejected(tags: list[Tag], field: str):
    with pytest.raises(InvalidInput) as caught:
        validation.tags(tags)
    assert caught.value.field == field


def test_merge_tags_replaces_same_key_regardless_of_case():
    merged = validation.merge_tags([Tag("Team", "a"), Tag("env", "prod")], [Tag("team", "b")])
    assert merged == (Tag("env", "prod"), Tag("team", "b"))


def test_merge_tags_over_fifty_is_a_limit():
    existing = [Tag(f"k{i}", "v") for i in range(50)]
    with pytest.raises(LimitExceeded):
        validation.merge_tags(existing, [Tag("one-more", "v")])


def test_remove_tags_ignores_case_and_absent_keys():
    kept = validation.remove_tags([Tag("Team", "a"), Tag("env", "prod")], ["TEAM", "nope"])
    assert kept == (Tag("env", "prod"),)
