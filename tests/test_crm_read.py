"""Reading CRM exports: what a user sees in rows, row numbers and error messages."""

from __future__ import annotations

import random
import time
import tracemalloc
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from oneconnect_pipelines.crm import ColumnMapping, MappingError, NormaliseOptions, prepare
from oneconnect_pipelines.crm.read import CrmFileError, read_export

BOM = "\ufeff"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def file_error(tmp_path: Path, content: str) -> str:
    """The ``CrmFileError`` of reading ``content`` as export.csv."""
    with pytest.raises(CrmFileError) as caught:
        read_export(write(tmp_path, "export.csv", content))
    return str(caught.value)


def test_messy_semicolon_export_keeps_values_and_file_line_numbers(tmp_path: Path) -> None:
    nfd_name = unicodedata.normalize("NFD", "Ána")
    path = write(
        tmp_path,
        "export.csv",
        BOM + "First Name;Mobile Phone;Notes\r\n"
        "\r\n"
        f'{nfd_name};0555123456;"likes; semicolons"\r\n'
        'ნინო;995555000111;"two\r\nlines"\r\n'
        "\r\n"
        "Борис;00995555000222;=SUM(A1)\r\n"
        ";;\r\n"
        '王芳;555000333;"say ""hi"""\r\n',
    )
    export = read_export(path)

    assert export.columns == ("First Name", "Mobile Phone", "Notes")
    frame = export.frame
    assert frame.index.tolist() == [3, 4, 7, 9]
    assert frame["Mobile Phone"].tolist() == [
        "0555123456",
        "995555000111",
        "00995555000222",
        "555000333",
    ]
    assert frame["Notes"].tolist() == ["likes; semicolons", "two\r\nlines", "=SUM(A1)", 'say "hi"']
    assert frame["First Name"].tolist()[1:] == ["ნინო", "Борис", "王芳"]
    assert all(isinstance(dtype, pd.StringDtype) for dtype in frame.dtypes)
    assert export.rejected == ()


def test_comma_export_without_bom_and_quoted_commas(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        'Phone,Street,City\n0555123456,"1, Rustaveli Ave",Tbilisi\n0555123457,Main St,Batumi',
    )
    export = read_export(path)
    assert export.frame["Street"].tolist() == ["1, Rustaveli Ave", "Main St"]
    assert export.frame.index.tolist() == [2, 3]


def test_ragged_row_is_rejected_with_its_line_and_the_rest_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "Phone;Name\n0555123456;Ann\n0555123457\n0555123458;Bo\n")
    export = read_export(path)
    assert export.frame.index.tolist() == [2, 4]
    assert [(r.row, r.reason) for r in export.rejected] == [
        (3, "has 1 field(s) where the header has 2 (separator ';')")
    ]


def test_non_utf8_bytes_name_file_line_and_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.csv", b"Phone,Name\n0555123456,Ann\n0555123457,Ren\xe9e\n")
    with pytest.raises(CrmFileError) as caught:
        read_export(path)
    message = str(caught.value)
    assert "latin1.csv" in message
    assert "line 3" in message
    assert "column 15, file offset 40" in message
    assert "0555123457" not in message


def test_non_utf8_byte_beyond_the_first_megabyte_is_located(tmp_path: Path) -> None:
    rows = "".join(f"0555{index:06d},Name\n" for index in range(100_000))  # 1.6 MB
    content = b"Phone,Name\n" + rows.encode() + b"0555999999,\xff\n"
    path = write(tmp_path, "big.csv", content)
    with pytest.raises(CrmFileError, match=r"line 100002 .*byte 0xff"):
        read_export(path)


@pytest.mark.parametrize("content", [b"", BOM.encode(), b"\n\r\n  \n"])
def test_empty_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(CrmFileError, match=r"empty\.csv: the file is empty"):
        read_export(write(tmp_path, "empty.csv", content))


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    export = read_export(write(tmp_path, "header.csv", "Phone;Name\n"))
    assert len(export.frame) == 0
    assert export.columns == ("Phone", "Name")


def test_repeated_header_and_unclosed_quote_are_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CrmFileError, match=r"column 'Phone' twice \(columns 1 and 2\)"):
        read_export(write(tmp_path, "a.csv", "Phone,Phone\n1,2\n"))
    with pytest.raises(CrmFileError, match="never closed"):
        read_export(write(tmp_path, "b.csv", 'Phone,Name\n0555123456,"Ann\n'))


UNCLOSED_THEN_INCH_MARK = (
    "Phone,First Name,Note\n"
    '0555123451,Ann,"VIP customer\n'
    "0555123452,Bob,ok\n"
    '0555123453,Cy,ordered 12" pizza\n'
    "0555123454,Dan,ok\n"
)


def test_a_quote_never_closed_before_a_later_quote_is_a_file_error_naming_its_line(
    tmp_path: Path,
) -> None:
    """Quotes paired across the file made lines 2-4 one value: Bob and Cy were neither
    synced nor rejected nor counted. Now the file stops at the line the quote opens on."""
    message = file_error(tmp_path, UNCLOSED_THEN_INCH_MARK)
    assert message == (
        "export.csv: line 2, field 3: a quote opens a value that is not closed where a "
        "value can end (the next quote, on line 4, is followed by more text); close the "
        "quote, or quote the whole value and write each quote inside it twice"
    )
    for value in ("0555", "VIP", "pizza", "Ann", "Cy"):
        assert value not in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (  # two inch marks: the rows between them used to vanish
            'Phone,First Name,Note\n0555123451,Ann,ordered 12" pizza\n0555123452,Bob,ok\n'
            '0555123453,Zed,6" sub, no onions\n',
            "line 2, field 3: a quote inside a value that is not quoted",
        ),
        (
            'Phone;Note\n0555123451;ok\n0555123452;said "hi" twice\n',
            "line 3, field 2: a quote inside a value that is not quoted",
        ),
        (
            'Phone,Note\n0555123451,"a\nb"\n0555123452,"said "hi"",x\n',
            "line 4, field 2: a quoted value goes on after its closing quote",
        ),
        (
            '"Phone","Note"\r\n"0555123451",ok\r\n"0555123452"x,ok\r\n',
            "line 3, field 1: a quoted value goes on after its closing quote",
        ),
    ],
    ids=["inch marks", "quoted word", "quote not doubled", "text after the closing quote"],
)
def test_a_stray_quote_is_a_file_error_naming_its_line_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    refused = file_error(tmp_path, content)
    assert refused.startswith(f"export.csv: {message}; quote the whole value")
    assert "0555" not in refused


def _valid_csv(rng: random.Random) -> tuple[str, list[tuple[int, list[str]]]]:
    """An RFC 4180 file (``,`` or ``;``, LF or CRLF, BOM or not, values with separators,
    doubled quotes and line ends inside quotes) and the rows it holds, by line number."""
    separator, line_end = rng.choice(",;"), rng.choice(["\n", "\r\n"])
    columns = rng.randint(2, 4)
    pieces = ["a", "ž", "0", " ", ",", ";", '"', "\n", "\r\n", "\t", "="]

    def written(value: str) -> str:
        if rng.random() < 0.3 or any(char in value for char in (separator, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    records = [separator.join(written(f"c{i}") for i in range(columns))]
    rows, line = [], 2
    for _ in range(rng.randint(0, 6)):
        values = ["".join(rng.choices(pieces, k=rng.randint(0, 5))) for _ in range(columns)]
        if rng.random() < 0.1:
            records.append("")  # a blank line
        else:
            records.append(separator.join(written(value) for value in values))
            if any(value.strip() for value in values):  # a row of blank cells is skipped
                rows.append((line, values))
        line += records[-1].count("\n") + 1
    text = line_end.join(records) + rng.choice(["", line_end])
    return (BOM if rng.random() < 0.3 else "") + text, rows


def test_valid_quoting_reads_every_row_as_written(tmp_path: Path) -> None:
    """The quoting check refuses no valid file and changes no value or row number."""
    rng = random.Random(4180)
    for number in range(300):
        text, rows = _valid_csv(rng)
        export = read_export(write(tmp_path, f"valid{number}.csv", text))
        read = [
            (int(line), [str(value) for value in values])
            for line, values in zip(export.frame.index, export.frame.to_numpy(), strict=True)
        ]
        assert (read, export.rejected) == (rows, ()), repr(text)


def test_classic_mac_line_ends_are_read_as_lines(tmp_path: Path) -> None:
    """Excel's "CSV (Macintosh)" ends lines with a lone CR."""
    path = write(
        tmp_path,
        "mac.csv",
        b'First Name,Mobile Phone,Notes\rAnna,0555123456,"two\rlines"\r\rBob,0555123457,\r',
    )
    export = read_export(path)
    assert export.frame.index.tolist() == [2, 5]
    assert export.frame["Mobile Phone"].tolist() == ["0555123456", "0555123457"]
    assert export.frame["Notes"].tolist() == ["two\nlines", ""]


def test_a_lone_cr_in_the_header_of_a_file_of_lf_lines_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CrmFileError, match=r"^odd\.csv: the header on line 1 cannot be read"):
        read_export(write(tmp_path, "odd.csv", b"Mobile\rPhone,Name\n0555123456,Anna\n"))


def test_a_cr_inside_an_unquoted_value_rejects_that_row_and_never_cuts_the_value(
    tmp_path: Path,
) -> None:
    """Arrow ends a row at a lone CR where the rows were told apart by LF: "Ann\rMarie"
    landed as "Ann". Now such a row is rejected, saying how to export it."""
    content = b"Phone,First Name\n0555123456,Ann\rMarie\n\r\r\n0555123457,Bob\r\r\n"
    export = read_export(write(tmp_path, "cr.csv", content))
    assert export.frame.index.tolist() == [4]
    assert export.frame["First Name"].tolist() == ["Bob"]
    assert [(r.row, r.reason) for r in export.rejected] == [
        (2, "holds a carriage return (CR) inside an unquoted value; quote the value")
    ]
    alone = read_export(write(tmp_path, "alone.csv", b"Phone,First Name\n0555,Ann\rMarie\n"))
    assert alone.frame.empty and [r.row for r in alone.rejected] == [2]


def test_a_line_of_spaces_is_a_blank_line(tmp_path: Path) -> None:
    export = read_export(write(tmp_path, "s.csv", "Phone,Name\n0555123456,Ann\n \t \n\n"))
    assert export.frame.index.tolist() == [2] and export.rejected == ()


def test_a_value_longer_than_arrows_block_is_read_whole(tmp_path: Path) -> None:
    notes = "x" * 2_200_000  # Arrow reads 1 MiB blocks by default
    content = f"Phone,Notes\n0555123456,{notes}\n0555123457,b\n"
    export = read_export(write(tmp_path, "long.csv", content))
    assert export.frame["Notes"].str.len().tolist() == [2_200_000, 1]


def test_a_column_named_row_is_an_ordinary_column(tmp_path: Path) -> None:
    csv_export = read_export(write(tmp_path, "a.csv", "row,Phone\n7,0555123456\n8,0555123457\n"))
    assert csv_export.frame.index.tolist() == [2, 3]
    assert csv_export.frame["row"].tolist() == ["7", "8"]
    json_export = read_export(write(tmp_path, "a.jsonl", '{"row": 7, "Phone": "0555123456"}\n'))
    assert json_export.frame.index.tolist() == [1]
    assert json_export.frame["row"].tolist() == ["7"]
    rows, resolved = prepare(tmp_path / "a.csv", ColumnMapping(), NormaliseOptions())
    assert rows.rows["row"].tolist() == [2, 3]
    assert resolved.unused == ("row",)


HEADERLESS = (
    "Anna,Smith,0555 12 34 56,05.05.1997,anna.smith@example.com\n"
    "Bob,Jones,0555 12 34 57,06.06.1990,bob@example.com\n"
)
FIRST_CUSTOMER = ("0555 12 34 56", "05.05.1997", "anna.smith@example.com", "Anna", "Smith")


def test_a_file_without_its_header_row_is_refused_without_showing_its_data(
    tmp_path: Path,
) -> None:
    message = file_error(tmp_path, HEADERLESS)
    assert message == (
        "export.csv: line 1 is not a header: column(s) 3, 4, 5 hold what looks like a "
        "phone number, a date or an e-mail; export the file with its header row (the "
        "column names) first"
    )
    assert not [value for value in FIRST_CUSTOMER if value in message]


def test_messages_name_columns_by_position_and_never_show_data(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        ColumnMapping().resolve(["Name", "0555 12 34 56", "a@b.co", "05.05.1997"], "x.jsonl")
    message = str(caught.value)
    assert "its columns are 1 'Name', 2 (not shown: it looks like data), 3 (not" in message
    for value in ("0555", "a@b.co", "1997"):
        assert value not in message


def test_json_lines_broken_line_is_rejected_and_the_rest_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.jsonl",
        '{"Phone": "0555123456", "Name": "Ann", "Score": 3}\n'
        "\n"
        '{"Phone": "0555123457", "Name": \n'
        "[1, 2]\n"
        '{"Phone": 555123458, "Other Phone": ["0555000001", "0555000002"], "VIP": true}\n'
        '{"Phone": "0555123459", "Address": {"city": "Tbilisi"}}\n',
    )
    export = read_export(path)
    assert export.frame.index.tolist() == [1, 5]
    assert export.frame["Phone"].tolist() == ["0555123456", "555123458"]
    assert export.frame["Other Phone"].tolist()[1] == "0555000001, 0555000002"
    assert export.frame["VIP"].tolist()[1] == "true"
    reasons = {r.row: r.reason for r in export.rejected}
    assert set(reasons) == {3, 4, 6}
    assert reasons[3].startswith("is not valid JSON")
    assert "0555123457" not in reasons[3]
    assert reasons[4] == "is a JSON list, not an object"
    assert "'Address' holds a JSON dict" in reasons[6]


def test_a_json_line_keyed_by_customer_data_is_rejected_without_showing_it(
    tmp_path: Path,
) -> None:
    """A CRM that writes ``{"0555123456": {...}}`` or a birthday as a key: such a key
    would be a column name, and column names reach the run's metadata and messages."""
    path = write(
        tmp_path,
        "export.jsonl",
        '{"Phone": "0555123456", "Name": "Ann"}\n'
        '{"Phone": "0555123457", "0555 12 34 58": "Bob"}\n'
        '{"Name": "Cy", "ann@example.com": 1, "05.05.1997": "x"}\n',
    )
    export = read_export(path)
    assert export.columns == ("Phone", "Name")
    assert export.frame.index.tolist() == [1]
    reasons = {r.row: r.reason for r in export.rejected}
    assert reasons == {
        2: "field(s) 2 are named with what looks like a phone number, a date or an e-mail, "
        "not a column name",
        3: "field(s) 2, 3 are named with what looks like a phone number, a date or an "
        "e-mail, not a column name",
    }


def test_json_lines_file_with_no_object_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(CrmFileError, match="no line is a JSON object"):
        read_export(write(tmp_path, "export.jsonl", "Phone,Name\n0555123456,Ann\n"))


def test_a_100_mb_export_reads_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    block = "".join(
        f'99555{i:07d};Name {i};"Street {i}; apt {i % 97}";{i % 28 + 1:02d}.05.1990;'
        f"user{i}@example.com;Tbilisi;0{i:05d}\n"
        for i in range(10_000)
    ).encode()
    repeats = 100 * 1024 * 1024 // len(block) + 1
    with path.open("wb") as out:
        out.write(b"Mobile;First Name;Street;DOB;Email;City;Zip\n")
        for _ in range(repeats):
            out.write(block)
    size = path.stat().st_size
    assert size >= 100 * 1024 * 1024

    tracemalloc.start()
    started = time.perf_counter()
    try:
        export = read_export(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started

    assert len(export.frame) == repeats * 10_000
    assert export.frame.index[-1] == repeats * 10_000 + 1
    assert export.frame["Zip"].iloc[0] == "000000"  # leading zeros stay text
    assert export.frame["Street"].iloc[5] == "Street 5; apt 5"
    assert export.rejected == ()
    assert peak < 8 * size, f"traced peak {peak / size:.1f}x the file size"
    assert elapsed < 60  # generous: a hang or a per-line Python loop shows up here
