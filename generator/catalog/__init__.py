"""The catalog model every output is rendered from, and its history."""
