from __future__ import annotations

from pathlib import Path

import pytest

from repricer.exceptions import InputFileError
from repricer.table_reader import detect_encoding, map_header, open_table, sniff_delimiter


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a,b,c\n1,2,3\n", ","),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b\n1|2\n", "|"),
    ],
    ids=["semicolon", "comma", "tab", "pipe"],
)
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_detect_encoding() -> None:
    assert detect_encoding("Цена".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("Цена".encode()) == "utf-8"
    assert detect_encoding("Цена".encode("cp1251")) == "cp1251"
    # a sample cut in the middle of a multi-byte character is still UTF-8
    assert detect_encoding("ЦенаЦена".encode()[:5]) == "utf-8"


def test_rows_carry_file_line_numbers_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('sku;title\n\nA;"two\nlines"\nB\n')
    table = open_table(path)
    assert table.header == ["sku", "title"]
    assert list(table) == [
        (4, {"sku": "A", "title": "two\nlines"}),
        (5, {"sku": "B", "title": None}),
    ]


def test_utf8_declared_but_cp1251_later_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"sku;title\n" + b"A;plain\n" * 10000 + "B;Чайник\n".encode("cp1251"))
    with pytest.raises(InputFileError, match="not valid utf-8 text"):
        list(open_table(path))


def test_map_header_explicit_columns_win() -> None:
    header = ["Артикул", "Цена", "Цена закупки"]
    aliases = {"артикул": "sku", "цена": "price"}
    assert map_header(header, aliases) == {"Артикул": "sku", "Цена": "price"}
    assert map_header(header, aliases, {"price": "Цена закупки"}) == {
        "Цена закупки": "price",
        "Артикул": "sku",
    }
