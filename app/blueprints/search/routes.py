"""HTML search pages (being written)."""
