"""The site stage: renders the catalog model into pages, feed and sitemap (never reads files)."""
