"""Verify image bytes against their checksums, reusing digests the state can vouch for."""
