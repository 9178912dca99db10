"""Tests of plans, renders, takes, the journal, the lock, a team's ledger and store (storyboard/run/)."""
