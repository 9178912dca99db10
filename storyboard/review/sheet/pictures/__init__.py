"""The sheet's pictures: videos and images into cached JPEG stills (``thumbs``), the stills a page
shows by name (``stills``), and the contact sheet PNG (``png``)."""
