"""catalog.json: the catalog's one file of data, made from each image's kept line (`image_memo`)
so that an unchanged image costs a join, not a serialisation; made in parts, so that a build
never holds it whole, nor all the lines it is made of (`site.deferred.Chunked`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from generator.catalog.model import Catalog
from generator.problems import Problem
from generator.site.deferred import encoded_parts
from generator.site.image_memo import Pieces, problem_lines
from generator.site.record_lines import RecordLines
from generator.site.records import compact_json, image_record


def catalog_parts(
    catalog: Catalog, records: RecordLines | None = None, pieces: list[Pieces] | None = None
) -> Iterator[bytes]:
    """catalog.json's bytes as parts (`deferred.encoded_parts`): the file is never held whole,
    as text or as bytes (`site.deferred.Chunked`).

    Stable JSON: sorted keys, one top-level key per line and one list item (an image, a
    problem) per line, so unchanged catalogs give equal bytes and a change is a line of a diff.
    `records`: where the images' lines come from (`RecordLines`, read back a row at a time);
    `pieces` (`image_memo`) hold the lines of the images' problems.
    """
    return encoded_parts(_catalog_texts(catalog, records, pieces))


def _catalog_texts(
    catalog: Catalog, records: RecordLines | None, pieces: list[Pieces] | None
) -> Iterator[str]:
    """The text of catalog.json as the pieces it is made of, in order (lines are not copied)."""
    records = RecordLines(catalog.images) if records is None else records
    known = problem_lines(catalog.images, pieces) if pieces is not None else {}
    values: dict[str, Iterable[str] | str] = {
        key: _item_lines(value)
        for key, value in replace(catalog, images=[], problems=[]).to_json().items()
    }
    values["images"] = records.lines()
    values["problems"] = [_problem_line(p, known) for p in catalog.problems]
    for number, (key, value) in enumerate(sorted(values.items())):
        yield from (",\n" if number else "{\n", compact_json(key), ": ")
        yield from (value,) if isinstance(value, str) else _list_text(value)
    yield "\n}\n"


def _problem_line(problem: Problem, known: dict[int, tuple[object, str]]) -> str:
    """The problem's line of catalog.json: as its image's pieces hold it, else made now."""
    found = known.get(id(problem))
    return found[1] if found is not None and found[0] is problem else compact_json(vars(problem))


def _item_lines(value: Any) -> list[str] | str:
    """A non-empty list as the lines of its items, anything else as its one line of JSON."""
    if isinstance(value, list) and value:
        return [compact_json(v) for v in value]
    return compact_json(value)


def _list_text(lines: Iterable[str]) -> Iterator[str]:
    """A list of one item per line, as pieces of the text (the lines are not copied)."""
    number = -1
    for number, line in enumerate(lines):
        yield ",\n" if number else "[\n"
        yield line
    yield "[]" if number < 0 else "\n]"


def image_records(catalog: Catalog) -> dict[str, str]:
    """Each image's catalog.json entry as one line: the line of catalog.json, and `image.json`."""
    return {image.id: image_record(image) for image in catalog.images}
