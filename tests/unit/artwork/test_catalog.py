"""Catalog loading: a valid folder loads; each class of error is reported with file, line, field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from artwork.catalog import load_catalog, write_catalog
from artwork.errors import InputErrors

TITLES = """title_id,name,year,genres,maturity
t1,Night Harbor,1999,Crime|Thriller,R
t2,"Sunny, Days",2004,Comedy,PG
"""
ARTWORK = """artwork_id,title_id,path,kind
a1,t1,img/a1.jpg,still
a2,t1,img/a2.jpg,key_art
a3,t2,img/a3.jpg,still
"""


def _write(folder: Path, titles: str = TITLES, artwork: str = ARTWORK) -> Path:
    (folder / "img").mkdir(exist_ok=True)
    for name in ("a1", "a2", "a3"):
        Image.new("RGB", (32, 18), "navy").save(folder / "img" / f"{name}.jpg")
    (folder / "titles.csv").write_text(titles)
    (folder / "artwork.csv").write_text(artwork)
    return folder


def _errors(folder: Path) -> list[str]:
    with pytest.raises(InputErrors) as info:
        load_catalog(folder)
    return [str(e) for e in info.value.errors]


def test_valid_catalog_loads_with_candidates_in_order(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path))
    assert set(catalog.titles) == {"t1", "t2"}
    assert catalog.titles["t2"].name == "Sunny, Days"
    assert catalog.titles["t1"].genres == ("Crime", "Thriller")
    assert [a.artwork_id for a in catalog.candidates("t1")] == ["a1", "a2"]
    assert catalog.artwork["a2"].kind == "key_art"
    assert catalog.image_path("a3").is_file()
    assert catalog.candidates("unknown") == ()


def test_jsonl_catalog_loads(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "titles.csv").unlink()
    (tmp_path / "titles.jsonl").write_text(
        json.dumps({"title_id": "t1", "name": "A", "genres": ["Drama", "War"]})
        + "\n\n"
        + json.dumps({"title_id": "t2", "name": "B", "genres": ["Comedy"], "year": 2001})
        + "\n"
    )
    catalog = load_catalog(tmp_path)
    assert catalog.titles["t1"].genres == ("Drama", "War")
    assert catalog.titles["t2"].year == 2001


@pytest.mark.parametrize(
    ("titles", "artwork", "expected"),
    [
        (TITLES.replace("maturity", "rating"), ARTWORK, "titles.csv:1: rating: unknown column"),
        (TITLES.replace(",genres", ""), ARTWORK, "titles.csv:1: genres: missing required column"),
        (TITLES + "t1,Again,2001,Drama,PG\n", ARTWORK, "titles.csv:4: title_id: duplicate id"),
        (TITLES.replace("Comedy", "Comedy|Sitcom"), ARTWORK, "titles.csv:3: genres: unknown genre"),
        (TITLES.replace("2004", "20o4"), ARTWORK, "titles.csv:3: year: not a whole number"),
        (TITLES.replace(",PG\n", ",XXX\n"), ARTWORK, "titles.csv:3: maturity: unknown rating"),
        (TITLES + "t3,,2001,Drama,PG\n", ARTWORK, "titles.csv:4: name: empty value"),
        (TITLES + "t3,Short,2001\n", ARTWORK, "titles.csv:4: expected 5 cells"),
        (TITLES, ARTWORK + "a4,t2,img/gone.jpg,still\n", "artwork.csv:5: path: file not found"),
        (TITLES, ARTWORK + "a3,t2,img/a3.jpg,still\n", "artwork.csv:5: artwork_id: duplicate id"),
        (TITLES, ARTWORK + "a4,t9,img/a3.jpg,still\n", "artwork.csv:5: title_id: unknown title"),
        (TITLES, ARTWORK + "a4,t2,img/a3.jpg,poster\n", "artwork.csv:5: kind: unknown kind"),
        (TITLES, ARTWORK + "a4,t2,../outside.jpg,still\n", "artwork.csv:5: path: must be relative"),
        (TITLES, ARTWORK + "a4,t2,/etc/passwd,still\n", "artwork.csv:5: path: must be relative"),
    ],
)
def test_each_error_names_file_line_and_field(
    tmp_path: Path, titles: str, artwork: str, expected: str
) -> None:
    (tmp_path.parent / "outside.jpg").write_bytes(b"x")
    messages = _errors(_write(tmp_path, titles, artwork))
    assert any(m.startswith(expected) for m in messages), messages


def test_all_errors_are_reported_at_once_and_nothing_is_loaded(tmp_path: Path) -> None:
    bad_titles = TITLES.replace("Comedy", "Sitcom") + "t1,Dup,1990,Drama,PG\n"
    bad_artwork = ARTWORK + "a4,t1,img/none.jpg,still\n"
    messages = _errors(_write(tmp_path, bad_titles, bad_artwork))
    assert len(messages) == 3, messages


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "titles.csv").unlink()
    (tmp_path / "titles.jsonl").write_text(
        '{"title_id": "t1", "name": "A", "genres": ["Drama"]}\n{not json\n[1, 2]\n'
        '{"title_id": "t2", "name": "B", "genres": ["Comedy"], "colour": "red"}\n'
    )
    messages = _errors(tmp_path)
    assert any(m.startswith("titles.jsonl:2: invalid JSON") for m in messages), messages
    assert any(m.startswith("titles.jsonl:3: expected a JSON object") for m in messages)
    assert any(m.startswith("titles.jsonl:4: colour: unknown column") for m in messages)


def test_missing_files_are_reported(tmp_path: Path) -> None:
    messages = _errors(tmp_path)
    assert any("missing titles.csv or titles.jsonl" in m for m in messages)
    assert any("missing artwork.csv or artwork.jsonl" in m for m in messages)


WINDOWED = """artwork_id,title_id,path,kind,maturity,available_from,available_until
a1,t1,img/a1.jpg,still,NC-17,,
a2,t1,img/a2.jpg,key_art,,2026-01-01,2026-02-01T12:00:00+01:00
a3,t2,img/a3.jpg,still,,,
"""


def test_artwork_maturity_and_availability_windows(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, artwork=WINDOWED))
    a1, a2 = catalog.artwork["a1"], catalog.artwork["a2"]
    assert a1.maturity == "NC-17" and a2.maturity is None
    assert a2.available_from == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert a2.available_until == datetime(2026, 2, 1, 11, tzinfo=UTC).timestamp()
    january = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
    march = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    ids = lambda cands: [a.artwork_id for a in cands]  # noqa: E731
    assert ids(catalog.eligible("t1", january)) == ["a1", "a2"]
    assert ids(catalog.eligible("t1", march)) == ["a1"]  # a2's window has closed
    assert ids(catalog.eligible("t1", january, max_maturity="R")) == ["a2"]  # a1 is NC-17
    assert catalog.eligible("t1", january, max_maturity="PG-13") == ()  # the title is R
    assert ids(catalog.eligible("t2", march, max_maturity="G")) == []  # t2 is PG
    assert ids(catalog.eligible("t2", march, max_maturity="PG")) == ["a3"]
    assert catalog.eligible("unknown", march) == ()
    # t2's images have no windows: all of them, at any time, for a viewer without a limit
    assert catalog.eligible("t2", 0.0) == catalog.eligible("t2", 4e9) == catalog.candidates("t2")


def test_written_windows_load_back_the_same(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, artwork=WINDOWED))
    write_catalog(tmp_path, list(catalog.titles.values()), list(catalog.artwork.values()))
    again = load_catalog(tmp_path)
    assert again.artwork == catalog.artwork
    plain = load_catalog(_write(tmp_path, artwork=ARTWORK))
    write_catalog(tmp_path, list(plain.titles.values()), list(plain.artwork.values()))
    assert (tmp_path / "artwork.csv").read_text().splitlines()[0] == "artwork_id,title_id,path,kind"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("a4,t2,img/a3.jpg,still,XXX,,", "artwork.csv:5: maturity: unknown rating"),
        ("a4,t2,img/a3.jpg,still,,tomorrow,", "artwork.csv:5: available_from: not an ISO 8601"),
        ("a4,t2,img/a3.jpg,still,,2026-02-01,2026-01-01",
         "artwork.csv:5: available_until: must be after available_from"),
    ],
)  # fmt: skip
def test_bad_artwork_windows_are_named(tmp_path: Path, row: str, expected: str) -> None:
    messages = _errors(_write(tmp_path, artwork=WINDOWED + row + "\n"))
    assert any(m.startswith(expected) for m in messages), messages
