"""Qt item models over the core records, for the console's tables."""
