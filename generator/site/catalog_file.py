"""catalog.json: the catalog's one file of data, made from each image's kept line (`image_memo`)
so that an unchanged image costs a join, not a serialisation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator.catalog.model import Catalog
from generator.problems import Problem
from generator.site.image_memo import Pieces, problem_lines
from generator.site.records import compact_json, image_record


def catalog_json(
    catalog: Catalog, records: dict[str, str] | None = None, pieces: list[Pieces] | None = None
) -> bytes:
    """Stable JSON: sorted keys, one top-level key per line and one list item (an image, a
    problem) per line, so unchanged catalogs give equal bytes and a change is a line of a diff.

    `records` are the images' lines (`image_records`) when the caller already made them;
    `pieces` (`image_memo`) hold the lines of the images' problems. The lines are joined once,
    into the one text that is encoded: the file is never held in several copies at once.
    """
    records = image_records(catalog) if records is None else records
    known = problem_lines(catalog.images, pieces) if pieces is not None else {}
    values = {
        key: _item_lines(value)
        for key, value in replace(catalog, images=[], problems=[]).to_json().items()
    }
    values["images"] = [records[image.id] for image in catalog.images]
    values["problems"] = [_problem_line(p, known) for p in catalog.problems]
    text: list[str] = []
    for key, value in sorted(values.items()):
        text += [",\n" if text else "{\n", compact_json(key), ": "]
        text += _list_text(value) if isinstance(value, list) else [value]
    text.append("\n}\n")
    return "".join(text).encode("utf-8")


def _problem_line(problem: Problem, known: dict[int, tuple[object, str]]) -> str:
    """The problem's line of catalog.json: as its image's pieces hold it, else made now."""
    found = known.get(id(problem))
    return found[1] if found is not None and found[0] is problem else compact_json(vars(problem))


def _item_lines(value: Any) -> list[str] | str:
    """A non-empty list as the lines of its items, anything else as its one line of JSON."""
    if isinstance(value, list) and value:
        return [compact_json(v) for v in value]
    return compact_json(value)


def _list_text(lines: list[str]) -> list[str]:
    """A list of one item per line, as parts of the text (the lines are not copied)."""
    if not lines:
        return ["[]"]
    parts = ["[\n"]
    for number, line in enumerate(lines):
        if number:
            parts.append(",\n")
        parts.append(line)
    parts.append("\n]")
    return parts


def image_records(catalog: Catalog) -> dict[str, str]:
    """Each image's catalog.json entry as one line: the line of catalog.json, and `image.json`."""
    return {image.id: image_record(image) for image in catalog.images}
