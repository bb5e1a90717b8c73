from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.taxonomy_parsing import build_tree, detect_format, parse_taxonomy
from tests.helpers import TAXONOMY_CSV, write, write_jsonl


def test_google_format_builds_paths_depths_and_parents(tmp_path: Path) -> None:
    path = write(
        tmp_path / "taxonomy-with-ids.en-US.txt",
        "# Google_Product_Taxonomy_Version: test\n1 - A\n2 - A > B, C & D\n3 - A > B, C & D > E/F\n",
    )
    parsed = parse_taxonomy(path)
    assert parsed.format == "google"
    assert parsed.locale == "en-US"
    records = {r.code: r for r in build_tree(parsed, "google", {})}
    assert records["3"].path == "A > B, C & D > E/F"
    assert records["3"].depth == 3
    assert records["3"].parent_id == "google:2"
    assert records["1"].parent_id is None
    assert records["2"].names == {"en-US": "B, C & D"}


def test_csv_with_locale_columns_and_parents_after_children(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id,parent_id,name,name_de-DE\n9,8,Child,Kind\n8,,Root,Wurzel\n")
    records = build_tree(parse_taxonomy(path), "shop", {})
    assert [r.code for r in records] == ["8", "9"]
    assert records[1].path == "Root > Child"
    assert records[1].names == {"en-US": "Child", "de-DE": "Kind"}


def test_jsonl_names_map(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"id": 1, "parent_id": None, "name": "Root", "names": {"zh-CN": "根"}},
            {"id": "2", "parent_id": 1, "name": "Leaf"},
        ],
    )
    records = build_tree(parse_taxonomy(path, locale="en-GB"), "shop", {})
    assert records[0].names == {"en-GB": "Root", "zh-CN": "根"}
    assert records[1].parent_id == "shop:1"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# h\n1 - A\nnot a category line\n", 3, "expected 'ID - Level1 > Level2'"),
        ("# h\n1 - A\n2 - B > C\n", 3, "parent category 'B' is not in the file"),
        ("# h\n1 - A\n2 - A >  > C\n", 3, "empty category name"),
    ],
)
def test_google_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(InputFileError) as err:
        build_tree(parse_taxonomy(path, fmt="google"), "google", {})
    assert err.value.line == line
    assert message in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id,parent_id,name\n1,2,A\n2,3,B\n3,1,C\n", 2, "cycle in taxonomy"),
        ("id,parent_id,name\n1,,A\n2,99,B\n", 3, "parent_id '99' is not in the file or the graph"),
        (
            "id,parent_id,name\n1,,A\n2,1,B\n2,,B\n",
            4,
            "given again with a different parent (first on line 3)",
        ),
        ("id,name\n1,A\n", 1, "missing required column(s) parent_id"),
        ("id,parent_id,name\n1,,A,extra\n", 2, "expected 3 fields"),
        ("id,parent_id,name\n1,,\n", 2, "must not be empty"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputFileError) as err:
        build_tree(parse_taxonomy(path), "shop", {})
    assert err.value.line == line
    assert message in str(err.value)


def test_self_parent_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "id,parent_id,name\n1,1,A\n")
    with pytest.raises(InputFileError, match="cycle in taxonomy: 1 -> 1"):
        build_tree(parse_taxonomy(path), "shop", {})


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,parent_id,name\n1,,Spielwaren\n2,1,Gr\u00fcn\n".encode("latin-1"))
    with pytest.raises(InputFileError) as err:
        parse_taxonomy(path)
    assert err.value.line == 3
    assert "not valid UTF-8" in str(err.value)


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", '{"id": 1, "name": "A"}\n{"id": 2, "name": \n')
    with pytest.raises(InputFileError) as err:
        parse_taxonomy(path)
    assert err.value.line == 2


def test_unknown_format_and_bad_locale_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "hello\n")
    with pytest.raises(InvalidArgumentError, match="cannot tell the format"):
        detect_format(path)
    with pytest.raises(InvalidArgumentError, match="locale"):
        parse_taxonomy(write(tmp_path / "t.csv", TAXONOMY_CSV), locale="en US")


def test_parent_may_already_be_in_the_graph(tmp_path: Path) -> None:
    from kgrec.graph.store import CategoryRef

    path = write(tmp_path / "t.csv", "id,parent_id,name\n7,1,Dolls\n")
    existing = {"shop:1": CategoryRef("shop:1", None, "Toys")}
    [record] = build_tree(parse_taxonomy(path), "shop", existing)
    assert record.path == "Toys > Dolls"
    assert record.depth == 2
