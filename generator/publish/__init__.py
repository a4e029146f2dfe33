"""Publish rendered files atomically, and only what this tool wrote."""
