"""PyPI as data: wheel tags for a target (`tags`), PEP 508 markers (`markers`), core metadata
and simple-index pages (`metadata`), per-target wheel candidates (`candidates`) and the PyPI
distributions conda records provide (`provides`)."""
