"""The state database: digests, fingerprints and history between runs."""
