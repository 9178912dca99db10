"""Files into facts and verdicts, headers read before anything decodes (``media/imagehead.py``
sniffs a file's type and image sizes): a PNG whole (``pngcheck``), an old init's card
(``initcard``), a file's facts (``probe``), and a take's one measuring ffmpeg pass (``measure``)."""
