"""Tests of the sheet, the studio, exports, notes (storyboard/review/)."""
