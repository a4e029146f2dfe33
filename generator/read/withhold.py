"""Leave out images whose names hold a secret: their pages, rows and feed entries would publish
it. The error problem shows the name with the secret masked (problems are redacted)."""

from __future__ import annotations

from generator.problems import problem
from generator.read.scan import ImageEntry, ScanResult
from generator.redact import find_secrets, may_hold_secret

# Images whose names are cleared by one test (`may_hold_secret` of them all, joined by newlines):
# one test of a few KB of text in C, where one per image costs a Python call each.
CLEARED_TOGETHER = 256


def withhold_secret_names(scanned: ScanResult) -> ScanResult:
    """Drop every image whose own, member or sidecar name holds a secret; report each."""
    kept = []
    images = scanned.images
    for start in range(0, len(images), CLEARED_TOGETHER):
        batch = images[start : start + CLEARED_TOGETHER]
        if not may_hold_secret("\n".join(name for entry in batch for name in _names(entry))):
            kept += batch
            continue
        for entry in batch:
            names = _names(entry)
            found = None
            if may_hold_secret("\n".join(names)):  # one test clears the usual image
                found = next((f for n in names for f in find_secrets(n)), None)
            if found is None:
                kept.append(entry)
                continue
            scanned.problems.append(problem("secret_in_name", entry.relpath, secret=found[2]))
    scanned.images = kept
    return scanned


def _names(entry: ImageEntry) -> list[str]:
    """The image's own name, its members' and its sidecars' (paths from the repository)."""
    sidecars = [s.relpath for s in (entry.checksum, entry.description) if s]
    return [entry.relpath, *(m.relpath for m in entry.members), *sidecars]
