"""Who could have replaced an image: files and directories writable or owned by the wrong people.

A `.checksum` beside an image proves the bytes were not corrupted, not that nobody replaced
both. Whoever can write an image and its sidecar (or the directory holding them) can make
any image look `verified`, so the scan flags entries others can write, and owners the
configuration does not name.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import stat
from dataclasses import dataclass

from generator.errors import ConfigError
from generator.problems import Problem, problem

TRUST_CODES = frozenset({"world_writable", "untrusted_group_writable", "unexpected_owner"})


@dataclass(frozen=True)
class TrustRules:
    """Resolved ids: `groups` None means the group check is off, `owners` None the owner check."""

    groups: frozenset[int] | None = None
    owners: frozenset[int] | None = None
    owner_names: tuple[str, ...] = ()  # as configured, for the fix hint

    def suspect(self, st: os.stat_result) -> bool:
        """The fast test run on every entry: is any rule broken at all?"""
        mode = st.st_mode
        return bool(
            mode & stat.S_IWOTH
            or (mode & stat.S_IWGRP and self.groups is not None and st.st_gid not in self.groups)
            or (self.owners is not None and st.st_uid not in self.owners)
        )


def trust_rules(groups: tuple[str, ...] | None, owners: tuple[str, ...] | None) -> TrustRules:
    """Resolve the configured names on this host; an unknown name is a configuration error."""
    errors: list[str] = []
    gids = None if groups is None else frozenset(_ids(groups, _gid, "group", errors))
    uids = None if owners is None else frozenset(_ids(owners, _uid, "user", errors))
    if errors:
        raise ConfigError("; ".join(errors) + ": fix trusted-groups or owners in the configuration")
    return TrustRules(gids, uids, owners or ())


def _ids(names: tuple[str, ...], lookup, kind: str, errors: list[str]) -> list[int]:
    ids = []
    for name in names:
        try:
            ids.append(lookup(name))
        except KeyError:
            errors.append(f"no {kind} named '{name}' on this host")
    return ids


def _gid(name: str) -> int:
    return grp.getgrnam(name).gr_gid


def _uid(name: str) -> int:
    return pwd.getpwnam(name).pw_uid


def trust_problems(relpath: str, st: os.stat_result, rules: TrustRules) -> list[Problem]:
    """One warning per broken rule for one entry (call only when `rules.suspect(st)`)."""
    what = "directory" if stat.S_ISDIR(st.st_mode) else "file"
    mode, quoted = f"{stat.S_IMODE(st.st_mode):04o}", shlex.quote(relpath)
    problems = []
    if st.st_mode & stat.S_IWOTH:
        problems.append(problem("world_writable", relpath, what=what, mode=mode, quoted=quoted))
    if st.st_mode & stat.S_IWGRP and rules.groups is not None and st.st_gid not in rules.groups:
        group = _group_name(st.st_gid)
        problems.append(
            problem("untrusted_group_writable", relpath, what=what, group=group, quoted=quoted)
        )
    if rules.owners is not None and st.st_uid not in rules.owners:
        target = (
            f"{shlex.quote(rules.owner_names[0])} {quoted}"
            if rules.owner_names
            else "it to a listed owner"
        )
        owner = _user_name(st.st_uid)
        problems.append(problem("unexpected_owner", relpath, what=what, owner=owner, target=target))
    return problems


def _group_name(gid: int) -> str:
    try:
        return f"'{grp.getgrgid(gid).gr_name}' (gid {gid})"
    except KeyError:
        return f"gid {gid}"


def _user_name(uid: int) -> str:
    try:
        return f"'{pwd.getpwuid(uid).pw_name}' (uid {uid})"
    except KeyError:
        return f"uid {uid}"
