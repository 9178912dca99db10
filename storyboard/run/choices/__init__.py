"""What a person asks of a shot's takes into the run's answer: findings and the best take, edits
and lip-sync passes, and what a language's version of them costs."""
