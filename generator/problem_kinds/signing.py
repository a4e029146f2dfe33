"""Kinds found while signing the published files (`sign-with`)."""

from __future__ import annotations

from generator.problem_kinds.kind import ERROR, Kind

SIGNING_KINDS: dict[str, Kind] = {
    "signing_failed": Kind(
        ERROR,
        "sign-with is set but GnuPG could not sign (unknown key, no gpg): published unsigned",
        "cannot sign with key '{key}': {detail}; the site was published without signatures",
        "import the secret key into the GnuPG home of the user the catalog runs as (no "
        "passphrase, or one the gpg-agent holds), or correct sign-with",
    ),
}
