"""Kinds found in names and in the repository's layout."""

from __future__ import annotations

from generator.problem_kinds.kind import ERROR, RENAME, WARNING, Kind

NAME_KINDS: dict[str, Kind] = {
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
}
