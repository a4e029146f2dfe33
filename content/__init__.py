"""Hand-written Markdown pages of the site (a package so they ship inside the wheel)."""
