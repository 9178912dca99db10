"""A series into a review sheet: one self-contained HTML page, and optionally a contact sheet PNG.

``build_sheet(path)`` (``build``) writes ``<series>/out/sheet.html``. Stages: ``model`` (series,
plan, lock into plain data on the stitcher's episode clock), ``thumbs`` (videos and images into
stills), ``html`` (data into the page), ``png`` (stills into a contact sheet), ``matrix`` (a
section per variation).
"""

from storyboard.review.sheet.build import SheetResult, build_sheet, sheet_for, sheet_model

__all__ = ["SheetResult", "build_sheet", "sheet_for", "sheet_model"]
