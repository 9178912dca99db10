"""Media made into what a video model is handed: a still scaled to its bounds (``fit``), a line's
audio padded to its shortest (``pad``), clips laid on one track as long as a take (``track``)."""
