"""The render stage: the linked model -> page text. Layout lives in the Jinja2 templates; no analysis here."""
