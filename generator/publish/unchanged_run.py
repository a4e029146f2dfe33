"""A build whose every input is as at the last build would publish the same site: skip it.

Most cron runs find nothing new. The last build's report (the summary figures, its problems
and the keys of the copies it left published) is kept in the state under a key over all a
build reads: every entry of the repository (the tree signature `verify` uses for the same
purpose), the settings, the program (code, templates, library versions), the hand-written
pages, and the day (a lifecycle date that passes changes what an unchanged tree shows). When
the next build finds the same key, the published copies still carry the keys it left, and the
rehash policy wants nothing read again, that report stands: one walk of the tree replaces
reading, modelling and rendering. Anything else, including a tree still settling, misses and
runs the full build, which is always correct.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, fields, replace
from itertools import chain
from pathlib import Path

from generator.identity import program_identity
from generator.problems import PROBLEM_ORDER, Problem, to_rows
from generator.publish.copies import published_key
from generator.resources import content_dir
from generator.state.database import State
from generator.verify.report import Summary, TreeSignature, summary_data, summary_from

SNAPSHOT = ("build", "last")  # one row: a new build replaces the record of the last one
# Its problems, in a row of their own keyed by their digest: the same from build to build.
PROBLEMS = "build:problems"
PROBLEM_FIELDS = len(fields(Problem))


@dataclass(frozen=True)
class LastBuild:
    """What the last build read (its key), reported, and left published."""

    key: str
    summary: Summary
    site_key: str
    private_key: str | None = None  # the members-only copy's, when one is configured


def build_key(signature: TreeSignature, settings: str, now: float) -> str:
    """Everything a build reads, but the state: the tree, settings, program, pages and day."""
    today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
    pages = sorted(
        (p.relative_to(content_dir()).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in content_dir().rglob("*")
        if p.is_file()
    )
    text = json.dumps([signature.digest, settings, program_identity(), today, pages])
    return hashlib.sha256(text.encode()).hexdigest()


def published_keys(output: Path, private_output: Path | None) -> tuple[str | None, str | None]:
    """The keys the published copies were made with (None: no copy, or no key recorded)."""
    private = published_key(private_output) if private_output is not None else None
    return published_key(output), private


def still_standing(
    state: State, key: str, output: Path, private_output: Path | None
) -> LastBuild | None:
    """The last build's record, if it was made from exactly these inputs and its copies are
    still the published ones."""
    last = load_last_build(state, key)
    if last is None:
        return None
    site, private = published_keys(output, private_output)
    if site != last.site_key or (private_output is not None and private != last.private_key):
        return None
    return last


def load_last_build(state: State, key: str | None = None) -> LastBuild | None:
    """The stored record; None when there is none, it cannot be read or (given `key`) it was
    made from other inputs: then its problems are not made again only to be dropped."""
    stored = state.snapshot(*SNAPSHOT)
    if stored is None:
        return None
    try:
        data = json.loads(stored)
        if key is not None and data["key"] != key:
            return None
        text = state.snapshot(PROBLEMS, data["problems"])
        if text is None:
            return None
        rows = problem_rows(text) if data["problems"] else json.loads(text)
        summary = summary_from({**data["summary"], "problems": rows})
        return LastBuild(data["key"], summary, data["site_key"], data["private_key"])
    except (ValueError, KeyError, TypeError):
        return None


def save_last_build(state: State, last: LastBuild, now: float) -> None:
    """Keep the record; its problems are written only when they are not those kept already
    (an edited description rarely changes them: 15,000 problems are 3 MB)."""
    joined = joined_problems(last.summary.problems)
    digest = hashlib.sha256(joined.encode()).hexdigest() if joined is not None else ""
    if joined is None:  # kept as JSON, under no digest: written every time
        text = json.dumps(to_rows(last.summary.problems))
        state.save_snapshot(PROBLEMS, "", text, now)
    elif state.snapshot(PROBLEMS, digest) is None:
        state.save_snapshot(PROBLEMS, digest, joined, now)
    data = {
        "key": last.key,
        "summary": summary_data(replace(last.summary, problems=[])),
        "problems": digest,
        "site_key": last.site_key,
        "private_key": last.private_key,
    }
    state.save_snapshot(*SNAPSHOT, json.dumps(data), now)


def joined_problems(problems: list[Problem]) -> str | None:
    """The problems' fields joined by NUL: made in C, and read back by `problem_rows`. None
    when a field is not text, holds a NUL or cannot be written as UTF-8 (a file name's
    undecodable bytes): then the text would not stand for the problems alone."""
    fields = list(chain.from_iterable(map(PROBLEM_ORDER, problems)))
    try:
        text = "\0".join(fields)
        text.encode()
    except (TypeError, UnicodeEncodeError):
        return None
    return text if text.count("\0") == max(len(fields) - 1, 0) else None


def problem_rows(joined: str) -> list[list[str]]:
    """The rows of the problems `joined_problems` joined (ValueError if it is damaged)."""
    fields = joined.split("\0") if joined else []
    if len(fields) % PROBLEM_FIELDS:
        raise ValueError("problem fields of an incomplete problem")
    return [fields[n : n + PROBLEM_FIELDS] for n in range(0, len(fields), PROBLEM_FIELDS)]


def forget_last_build(state: State, now: float) -> None:
    """A build that cannot be repeated from its inputs alone: the next one runs in full."""
    if state.snapshot(*SNAPSHOT) is not None:
        state.save_snapshot(*SNAPSHOT, "{}", now)
