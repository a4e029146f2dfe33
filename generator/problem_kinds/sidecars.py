"""Kinds found in .checksum and .txt sidecars."""

from __future__ import annotations

from generator.problem_kinds.kind import ERROR, RUN, SECRETS, WARNING, Kind

SIDECAR_KINDS: dict[str, Kind] = {
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
}
