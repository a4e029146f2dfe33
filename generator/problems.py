"""Problems are data: every per-file failure becomes one Problem, never an exception that stops the run."""

from __future__ import annotations

from dataclasses import dataclass

from generator.redact import redact
from generator.shell import printable

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# Every problem code, with what it means. The README lists them all (a test checks it), and a
# Problem with a code missing here is a bug caught by any test that reaches it.
CODES: dict[str, str] = {
    # names
    "name_too_few_fields": "the name does not split into the five required fields",
    "invalid_os": "the operating system field is not letters and a version",
    "invalid_arch": "the instruction set field is not a plain name",
    "invalid_word_size": "the word size field is not a number",
    "invalid_star_lib": "the STAR library field is not a plain name",
    "invalid_max_size": "the maximum size field is not a number and a unit",
    "unknown_os": "an operating system family the configuration does not list",
    "unknown_arch": "an instruction set the configuration does not list",
    "unknown_word_size": "a word size the configuration does not list",
    "unknown_star_lib": "a STAR library not of the usual form (sl, two digits, a letter)",
    "unknown_vm": "a VM directory the configuration does not list",
    "missing_extension": "an image file without an extension",
    # layout
    "file_at_root": "a file at the repository root, outside every VM directory",
    "orphan_checksum": "a .checksum with no image of the same name",
    "orphan_description": "a .txt with no image of the same name",
    "nested_directory": "a directory inside an image directory (its files are not catalogued)",
    "duplicate_stem": "two images with the same name before the extension",
    "empty_image_directory": "an image directory without files",
    "invalid_utf8_name": "a name that is not valid UTF-8",
    "symlink_outside": "a symbolic link leading out of the repository",
    "symlink_loop": "a symbolic link leading back to a directory that holds it",
    "broken_symlink": "a symbolic link to nothing (a sidecar, a member or at the root)",
    "not_regular_file": "a device, socket or pipe in the repository",
    "unreadable_entry": "an entry whose metadata cannot be read",
    "unreadable_directory": "a directory that cannot be listed",
    # sidecars
    "invalid_checksum": "a .checksum that is not md5sum output",
    "checksum_name_mismatch": "a .checksum naming another file than its image",
    "checksum_absolute_path": "a .checksum naming its image by an absolute path",
    "checksum_extra_entries": "a .checksum also listing files that are not part of its image",
    "checksum_unusual_form": "a .checksum md5sum -c reads differently or not at all (BOM, bare hash, -z, tabs, other lines)",
    "duplicate_sidecar": "a sidecar both beside a directory image and inside it (the one beside is used)",
    "invalid_front_matter": "front matter that is not a YAML mapping",
    "invalid_front_matter_key": "a front matter key that is not a simple name or is a catalog field",
    "description_not_utf8": "a description that is not UTF-8 (read as UTF-16 when it is, else Latin-1)",
    "description_too_large": "a description over 256 KiB (only the start is shown)",
    "unreadable_description": "a description that cannot be read",
    "secret_redacted": "a password seed, password or private key removed from a description",
    "description_too_complex": "Markdown that did not render in time (shown as plain text)",
    "secret_in_name": "a file name that holds a secret (the image is left out of the site)",
    # headers
    "truncated_header": "an image file shorter than its format's header",
    "corrupt_header": "a header with impossible values",
    "truncated_image": "an image shorter than its header says",
    "empty_file": "an empty image file",
    "read_budget_exceeded": "header detection wanted more bytes than allowed (a bug: report it)",
    "size_mismatch": "the name's maximum size differs from the header's virtual size",
    "format_vm_mismatch": "a disk format the VM directory's software does not use",
    "format_extension_mismatch": "an extension that does not match the disk format",
    # verification
    "checksum_mismatch": "the bytes do not match the .checksum",
    "unreadable": "the image bytes cannot be read",
    "changing": "the file changed while it was read (checked again next run)",
    "missing_checksum": "no .checksum beside the image",
    "member_missing": "a file the .checksum lists is missing from the image directory",
    "member_not_in_checksum": "a file of the image directory the .checksum does not list",
    # trust (who could replace an image and its .checksum together)
    "world_writable": "an image, sidecar or directory every user can write",
    "untrusted_group_writable": "one a group can write that trusted-groups does not list",
    "unexpected_owner": "one owned by a user the owners setting does not list",
    # state
    "state_rebuilt": "the state database was unreadable, moved aside and rebuilt",
    "state_not_used": "the state database cannot be used this run (newer schema, busy, no space)",
    "state_not_saved": "the state database could not be written during the run",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, with what to do about it."""

    path: str
    code: str
    severity: str
    message: str
    hint: str = ""

    def __post_init__(self) -> None:
        if self.code not in CODES or self.severity not in SEVERITIES:
            raise ValueError(
                f"unregistered problem code or severity: {self.code!r}, {self.severity!r}"
            )
        # The one choke point: every message reaches stderr, the log, the site and the state
        # through a Problem, and may quote a file's bytes or a name that holds a secret.
        for name in ("path", "message", "hint"):
            object.__setattr__(self, name, redact(getattr(self, name)))

    def line(self) -> str:
        """One-line message for stderr: quoted path first, then the problem, then the fix.

        Control characters are escaped: a name must not drive the terminal or forge a line.
        """
        text = f"'{self.path}': {self.severity}: {self.message}"
        return printable(f"{text} ({self.hint})" if self.hint else text)
