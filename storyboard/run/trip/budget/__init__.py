"""A run's money: what a shot is expected to bill (``costs``) and each task's estimate held,
charged or refused against the budget (``money``)."""
