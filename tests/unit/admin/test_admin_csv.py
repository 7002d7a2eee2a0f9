"""The directory as CSV: good rows kept, bad rows reported by their line."""

from __future__ import annotations

import pytest

from services.admin.csv_import import flag, parse_directory_csv
from services.admin.errors import Failure


def test_good_rows_are_kept_and_bad_rows_reported_by_line() -> None:
    parsed = parse_directory_csv(
        "email,full_name,external_id,treatment,active\n"  # line 1
        "ann@example.com,Ann Client,u-1,yes,1\n"  # 2
        "not-an-email,Bob,u-2,no,1\n"  # 3
        "\n"  # 4: blank, skipped
        'cy@example.com,"Cy, Jr.",u-3,FALSE,true\n'  # 5
        "dee@example.com,Dee,u-4,maybe,1\n"  # 6
        "eve@example.com,Eve\n"  # 7: too few fields
        'fay@example.com,"Fay\nSecond Line",u-6,0,0\n'  # 8-9: a quoted cell over two lines
        "gus@example.com,Gus,u-7,,\n"  # 10: blanks take the defaults
        "hal@example.com,,u-8,1,1\n"  # 11: no name
    )
    assert [e.email for e in parsed.entries] == [
        "ann@example.com",
        "cy@example.com",
        "fay@example.com",
        "gus@example.com",
    ]
    assert parsed.lines == [2, 5, 8, 10]
    ann, cy, fay, gus = parsed.entries
    assert (ann.full_name, ann.external_id, ann.treatment, ann.active) == (
        "Ann Client",
        "u-1",
        True,
        True,
    )
    assert (cy.full_name, cy.treatment, cy.active) == ("Cy, Jr.", False, True)
    assert (fay.treatment, fay.active) == (False, False)
    assert (gus.treatment, gus.active) == (False, True)
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (3, "email: not an email address"),
        (6, "treatment: expected true/false, 1/0 or yes/no, not 'maybe'"),
        (7, "expected 5 fields, found 2"),
        (11, "full_name: string should have at least 1 character"),
    ]


def test_columns_may_come_in_any_order_and_be_left_out() -> None:
    parsed = parse_directory_csv("\ufeffActive, Email,FULL_NAME\n0,ann@example.com,Ann\n")
    assert [(e.email, e.active, e.full_name) for e in parsed.entries] == [
        ("ann@example.com", False, "Ann")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "csv: the file is empty"),
        ("full_name,active\nAnn,1\n", "csv: the header needs an email column"),
        ("email,phone\nann@example.com,1\n", "csv: unknown column(s) phone"),
        ("email,email\na@b.co,a@b.co\n", "csv: a column is named twice"),
    ],
)
def test_a_file_wrong_as_a_whole_is_refused(text: str, message: str) -> None:
    with pytest.raises(Failure) as refused:
        parse_directory_csv(text)
    assert refused.value.http_status == 400
    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_flags_read_as_people_write_them(word: str, value: bool) -> None:
    assert flag("active", word) is value
