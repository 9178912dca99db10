"""Pictures into facts about the people in them: faces found and embedded, the costume under each,
the frame's light (the ``faces`` extra: dlib and its weights, imported by ``detector`` alone)."""
