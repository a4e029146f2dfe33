"""Problem kinds: each code's severity, meaning (as in the README) and wording templates."""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Kind:
    """`str.format` templates over named details; `{detail}`: a case's own wording."""

    severity: str
    meaning: str  # the README's problem-code table says the same
    message: str
    hint: str = ""


RENAME = "rename the image (and its sidecars) to follow the naming convention"
RUN = "in the VM directory, run: {command}"
RECOPY = "copy it again from a good source"
REPLACE = (
    "could replace an image together with its .checksum, and the catalog would still say verified"
)
SECRETS = "keep secrets out of descriptions; they are published on the web"

# Every problem code; the README lists them all (a test checks it).
KINDS: dict[str, Kind] = {
    # names
    "name_too_few_fields": Kind(
        ERROR,
        "the name does not split into the five required fields",
        "name '{stem}' has {count} of the 5 required '_'-separated fields",
        "rename it to <os>_<arch>_<word size>_<star lib>_<max size>[_<detail>].<ext>",
    ),
    "invalid_os": Kind(
        ERROR,
        "the operating system field is not letters and a version",
        "operating system is {value}, expected letters then an optional version, like sl5.3 or "
        "ubuntu9.10",
        RENAME,
    ),
    "invalid_arch": Kind(
        ERROR,
        "the instruction set field is not a plain name",
        "instruction set is {value}, expected a name such as x86, arm or powerpc",
        RENAME,
    ),
    "invalid_word_size": Kind(
        ERROR,
        "the word size field is not a number",
        "word size is {value}, expected a number of bits such as 32 or 64",
        RENAME,
    ),
    "invalid_star_lib": Kind(
        ERROR,
        "the STAR library field is not a plain name",
        "STAR library is {value}, expected a library version such as sl05c",
        RENAME,
    ),
    "invalid_max_size": Kind(
        ERROR,
        "the maximum size field is not a number and a unit",
        "maximum size is {value}, expected a number and a unit (MB, GB, TB), such as 8GB",
        RENAME,
    ),
    "unknown_os": Kind(
        WARNING,
        "an operating system family the configuration does not list",
        "operating system family is {value}, expected one of {known}",
        RENAME,
    ),
    "unknown_arch": Kind(
        WARNING,
        "an instruction set the configuration does not list",
        "instruction set is {value}, expected one of {known}",
        RENAME,
    ),
    "unknown_word_size": Kind(
        WARNING,
        "a word size the configuration does not list",
        "word size is {value}, expected one of {known}",
        RENAME,
    ),
    "unknown_star_lib": Kind(
        WARNING,
        "a STAR library not of the usual form (sl, two digits, a letter)",
        "STAR library is {value}, expected 'sl', two digits and a letter, such as sl05c",
        RENAME,
    ),
    "unknown_vm": Kind(
        WARNING,
        "a VM directory the configuration does not list",
        "VM directory '{vm}' is not a known VM software (known: {known})",
        "move the image into a known VM directory, or add it to known-vms",
    ),
    "missing_extension": Kind(
        WARNING,
        "an image file without an extension",
        "extension is nothing, expected a file extension such as .img, .qcow2 or .vdi",
        RENAME,
    ),
    # layout
    "file_at_root": Kind(
        WARNING,
        "a file at the repository root, outside every VM directory",
        "file at the repository root, outside any VM directory",
        "move it into the directory of its VM software, e.g. xen/",
    ),
    "orphan_checksum": Kind(
        WARNING,
        "a .checksum with no image of the same name",
        "checksum sidecar with no image of the same name beside it",
        "rename it to match its image, or remove it",
    ),
    "orphan_description": Kind(
        WARNING,
        "a .txt with no image of the same name",
        "description sidecar with no image of the same name beside it",
        "rename it to match its image, or remove it",
    ),
    "nested_directory": Kind(
        WARNING,
        "a directory inside an image directory (its files are not catalogued)",
        "directory inside an image directory; its files are not part of the catalog",
        "a multi-file image keeps its members directly inside its directory",
    ),
    "duplicate_stem": Kind(
        ERROR,
        "two images with the same name before the extension",
        "another image, '{other}', has the same name before the extension",
        "give each image its own name; sidecars and permalinks are keyed by it",
    ),
    "empty_image_directory": Kind(
        ERROR,
        "an image directory without files",
        "image directory holds no member files",
        "copy the image files into it",
    ),
    "invalid_utf8_name": Kind(
        ERROR,
        "a name that is not valid UTF-8",
        "name is not valid UTF-8 and cannot be published",
        "rename it using UTF-8 (plain ASCII is safest)",
    ),
    "symlink_outside": Kind(
        ERROR,
        "a symbolic link leading out of the repository",
        "symbolic link points outside the repository",
        "copy the file in instead",
    ),
    "symlink_loop": Kind(
        ERROR,
        "a symbolic link leading back to a directory that holds it",
        "{detail}",  # a link to its own parent, or links that form a loop
        "remove the link",
    ),
    "broken_symlink": Kind(
        ERROR,
        "a symbolic link to nothing (a sidecar, a member or at the root)",
        "symbolic link points to a file that does not exist",
        "fix or remove the link",
    ),
    "not_regular_file": Kind(
        ERROR,
        "a device, socket or pipe in the repository",
        "not a regular file or directory (device, socket or pipe)",
        "remove it",
    ),
    "unreadable_entry": Kind(
        ERROR,
        "an entry whose metadata cannot be read",
        "cannot stat: {reason}",
        "check permissions",
    ),
    "unreadable_directory": Kind(
        ERROR,
        "a directory that cannot be listed",
        "cannot list directory: {reason}",
        "check its permissions",
    ),
    # sidecars
    "invalid_checksum": Kind(
        ERROR,
        "a .checksum that is not md5sum output",
        "checksum file {error}",
        f"regenerate it: {RUN}",
    ),
    "checksum_name_mismatch": Kind(
        WARNING,
        "a .checksum naming another file than its image",
        "checksum names '{named}', not the image '{image}'",
        f"regenerate it: {RUN}",
    ),
    "checksum_absolute_path": Kind(
        WARNING,
        "a .checksum naming its image by an absolute path",
        "checksum names the image by an absolute path ('{named}'): md5sum -c on a copy would "
        "read the original at that path, not the copy",
        f"write it with relative names: {RUN}",
    ),
    "checksum_extra_entries": Kind(
        WARNING,
        "a .checksum also listing files that are not part of its image",
        "checksum also lists {count} other file(s) ({names}): md5sum -c on a copy of the image "
        "fails on them",
        f"keep only the image's line: {RUN}",
    ),
    "checksum_unusual_form": Kind(
        WARNING,
        "a .checksum md5sum -c reads differently or not at all (BOM, bare hash, -z, tabs, other "
        "lines)",
        "checksum file {oddities}",
        f"rewrite it: {RUN}",
    ),
    "duplicate_sidecar": Kind(
        WARNING,
        "a sidecar both beside a directory image and inside it (the one beside is used)",
        "the image has this sidecar both inside its directory and beside it ('{beside}'); the "
        "one beside it is used",
        "remove one of the two",
    ),
    "invalid_front_matter": Kind(
        WARNING,
        "front matter that is not a YAML mapping",
        "{detail}",  # what the front matter reader found
        "fix the YAML between the two '---' lines",
    ),
    "invalid_front_matter_key": Kind(
        WARNING,
        "a front matter key that is not a simple name or is a catalog field",
        "front matter key '{key}' {why}; it is not shown",
        "use simple names such as kernel or maintainer",
    ),
    "description_not_utf8": Kind(
        WARNING,
        "a description that is not UTF-8 (read as UTF-16 when it is, else Latin-1)",
        "description is {encoding}; read as {reading}",
        "save the description as UTF-8",
    ),
    "description_too_large": Kind(
        WARNING,
        "a description over 256 KiB (only the start is shown)",
        "description is larger than {kib} KiB; only the start is shown",
        "keep the description short and link to longer documents",
    ),
    "unreadable_description": Kind(
        WARNING,
        "a description that cannot be read",
        "cannot read description: {reason}",
        "check its permissions",
    ),
    "secret_redacted": Kind(
        WARNING,
        "a password seed, password or private key removed from a description",
        "{where} was removed before publishing",
        SECRETS,
    ),
    "description_too_complex": Kind(
        WARNING,
        "Markdown that did not render in time (shown as plain text)",
        "the Markdown did not render within {seconds:g} s (deeply nested brackets?); it is "
        "shown as plain text",
        "simplify the Markdown: fewer nested brackets or links",
    ),
    "secret_in_name": Kind(
        ERROR,
        "a file name that holds a secret (the image is left out of the site)",
        "the name holds a {secret}; the image is left out of the site",
        "rename it without the secret, and change the secret since it was readable",
    ),
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
