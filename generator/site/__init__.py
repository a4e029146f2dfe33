"""Render the catalog model into the static site's files."""
