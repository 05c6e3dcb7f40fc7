"""Catalog loading: a valid folder loads; each class of error is reported with file, line, field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from artwork.catalog import load_catalog
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
