"""Tests of the emulator and official SDKs against it (storyboard/emulator/)."""
