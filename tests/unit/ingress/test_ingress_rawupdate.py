"""Reading update_id from a raw body: the fast path for Telegram's own layout, a full
parse for anything else, and 0 whenever there is no usable id."""

from __future__ import annotations

import pytest

from services.ingress.rawupdate import read_update_id, update_id_of


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"update_id":123456789,"message":{"text":"hi"}}', 123456789),
        (b' \n{ "update_id" : 7 }', 7),
        (b'{"message":{"update_id":1},"update_id":99}', 99),  # not first: parsed
        (b'{"update_id":9223372036854775807}', 2**63 - 1),
    ],
)
def test_an_update_id_is_read(body: bytes, expected: int) -> None:
    assert read_update_id(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"update_id": 12',
        b"\xff\xfe{}",
        b"[1, 2, 3]",
        b'"update_id"',
        b'{"message":{}}',
        b'{"update_id":1.5}',
        b'{"update_id":1e3}',
        b'{"update_id":true}',
        b'{"update_id":"12"}',
        b'{"update_id":-4}',
        b'{"update_id":0}',
        b'{"update_id":9223372036854775808}',  # beyond int64: protobuf would refuse it
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser's recursion limit
    ],
)
def test_no_usable_update_id_reads_as_0(body: bytes) -> None:
    assert read_update_id(body) == 0


def test_a_parsed_update_gives_its_id_or_0() -> None:
    assert update_id_of({"update_id": 5, "message": {}}) == 5
    assert update_id_of({"update_id": False}) == 0
    assert update_id_of(["update_id", 5]) == 0
