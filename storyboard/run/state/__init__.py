"""What outlives a run into one floor: journal, lock file, output cache, takes, findings, sharing.

Below a shot's trip (``storyboard.run.trip``) and above the team's storage (``storyboard.run.team``).
"""
