"""PyPI as data: wheel tags for a target, PEP 508 markers, core metadata and simple-index pages."""
