"""Leave out images whose names hold a secret: their pages, rows and feed entries would publish
it. The error problem shows the name with the secret masked (problems are redacted)."""

from __future__ import annotations

from generator.problems import problem
from generator.read.scan import ScanResult
from generator.redact import find_secrets, may_hold_secret


def withhold_secret_names(scanned: ScanResult) -> ScanResult:
    """Drop every image whose own, member or sidecar name holds a secret; report each."""
    kept = []
    for entry in scanned.images:
        sidecars = [s.relpath for s in (entry.checksum, entry.description) if s]
        names = [entry.relpath, *(m.relpath for m in entry.members), *sidecars]
        found = None
        if may_hold_secret("\n".join(names)):  # one test clears the usual image
            found = next((f for n in names for f in find_secrets(n)), None)
        if found is None:
            kept.append(entry)
            continue
        scanned.problems.append(problem("secret_in_name", entry.relpath, secret=found[2]))
    scanned.images = kept
    return scanned
