"""Kinds found by reading images: headers, verification, trust and the state."""

from __future__ import annotations

from generator.problem_kinds.kind import ERROR, RECOPY, REPLACE, RUN, WARNING, Kind

CHECK_KINDS: dict[str, Kind] = {
    # headers: the detector (read/disk_formats.py) words each case, passed as `detail`
    "truncated_header": Kind(
        ERROR,
        "an image file shorter than its format's header",
        "{detail}",
        f"the file is cut short: {RECOPY}",
    ),
    "corrupt_header": Kind(
        ERROR,
        "a header with impossible values",
        "{detail}",
        f"the header is damaged: {RECOPY}",
    ),
    "truncated_image": Kind(
        ERROR,
        "an image shorter than its header says",
        "{detail}",
        "the file is shorter than its header says: copy it again",
    ),
    "empty_file": Kind(
        ERROR,
        "an empty image file",
        "{detail}",
        "the file is empty: copy the image again or remove it",
    ),
    "read_budget_exceeded": Kind(
        ERROR,
        "header detection wanted more bytes than allowed (a bug: report it)",
        "{detail}",
    ),
    "size_mismatch": Kind(
        WARNING,
        "the name's maximum size differs from the header's virtual size",
        "{detail}",
        "rename the image so its size field gives the disk's virtual size",
    ),
    "format_vm_mismatch": Kind(
        WARNING,
        "a disk format the VM directory's software does not use",
        "{detail}",
        "move the image to the directory of the VM software that reads its format",
    ),
    "format_extension_mismatch": Kind(
        WARNING,
        "an extension that does not match the disk format",
        "{detail}",
        "rename the image with the extension of its real format",
    ),
    # verification
    "checksum_mismatch": Kind(
        ERROR,
        "the bytes do not match the .checksum",
        "MD5 is {actual} but the checksum file says {expected}",
        "the image is corrupt or the checksum is stale: recopy the image, or, if it changed on "
        f"purpose, regenerate the checksum: {RUN}",
    ),
    "unreadable": Kind(
        ERROR,
        "the image bytes cannot be read",
        "{detail}",  # a whole image (broken link, empty directory) or one member's bytes
        "{remedy}",
    ),
    "changing": Kind(
        WARNING,
        "the file changed while it was read (checked again next run)",
        "file changed or disappeared while it was being read",
        "wait until the copy finishes; the next run checks it again",
    ),
    "missing_checksum": Kind(
        WARNING,
        "no .checksum beside the image",
        "no checksum file beside the image",
        f"create it: {RUN}",
    ),
    "member_missing": Kind(
        ERROR,
        "a file the .checksum lists is missing from the image directory",
        "listed in the checksum file but not present in the image directory",
        f"copy the missing file, or, if it was removed on purpose, regenerate the checksum: {RUN}",
    ),
    "member_not_in_checksum": Kind(
        WARNING,
        "a file of the image directory the .checksum does not list",
        "file is not listed in the image's checksum file",
        f"regenerate the checksum file: {RUN}",
    ),
    # trust (who could replace an image and its .checksum together)
    "world_writable": Kind(
        WARNING,
        "an image, sidecar or directory every user can write",
        f"{{what}} is writable by every user (mode {{mode}}): anyone {REPLACE}",
        "chmod o-w {quoted}",
    ),
    "untrusted_group_writable": Kind(
        WARNING,
        "one a group can write that trusted-groups does not list",
        "{what} is writable by group {group}, which trusted-groups does not list: its members "
        + REPLACE,
        "chmod g-w {quoted}, or add the group to trusted-groups",
    ),
    "unexpected_owner": Kind(
        WARNING,
        "one owned by a user the owners setting does not list",
        f"{{what}} is owned by {{owner}}, not by a user the owners setting lists: that user {REPLACE}",
        "chown {target}, or add the user to owners",
    ),
    # state
    "state_rebuilt": Kind(
        WARNING,
        "the state database was unreadable, moved aside and rebuilt",
        "state database cannot be read ({error}); moved aside to '{moved}' and rebuilt",
        "nothing to do: this run reads every image again; delete the old copy when unneeded",
    ),
    "state_not_used": Kind(
        WARNING,
        "the state database cannot be used this run (newer schema, busy, no space)",
        "{detail}",
        "{remedy}",  # a newer program's schema, or a database that cannot be opened
    ),
    "state_not_saved": Kind(
        WARNING,
        "the state database could not be written during the run",
        "cannot {action} the state database: {error}",
        "{remedy}",  # depends on what was lost: digests, or the image history
    ),
}
