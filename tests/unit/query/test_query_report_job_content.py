"""Report-job content survives the store: datetimes come back as aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bridge.query.iam_reports import decode_content, encode_content

WHEN = datetime(2026, 11, 27, 23, 59, 58, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param([], id="empty"),
        pytest.param(
            [{"ServiceNamespace": "s3", "TotalAuthenticatedEntities": 0}], id="no-datetime"
        ),
        pytest.param(
            [{"ServiceNamespace": "sts", "LastAuthenticated": WHEN, "Region": None}],
            id="utc-datetime",
        ),
        pytest.param(
            {"nested": [{"at": WHEN.astimezone(timezone(timedelta(hours=2)))}]},
            id="offset-datetime",
        ),
        pytest.param([{"$datetime": "not a tag", "other": 1}], id="look-alike-key-kept"),
    ],
)
def test_content_round_trips(value: Any) -> None:
    assert decode_content(encode_content(value)) == value


def test_a_value_json_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot store a `set` in a report job"):
        encode_content([{1, 2}])
