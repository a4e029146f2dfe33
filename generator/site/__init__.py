"""Render the catalog model into the static site: pages, feed, sitemap, catalog.json."""
