"""A story's stages: the chapters' casts and shots, a season's episodes, the files they become."""
