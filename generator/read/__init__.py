"""Read the repository: walk it, parse names, sidecars and image headers."""
