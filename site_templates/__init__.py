"""Templates and static assets of the site (a package so they ship inside the wheel)."""
