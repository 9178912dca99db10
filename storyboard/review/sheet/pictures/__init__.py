"""The sheet's pictures: the stills a page shows by name (``stills``) and the contact sheet PNG
(``png``), from the JPEG stills ``sheet/thumbs.py`` takes."""
