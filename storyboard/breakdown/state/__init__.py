"""What the breakdown keeps on disk (answers, state files, the guard of an edit); JSON read."""
