"""`python -m bench`: the bot as production runs it, the naive baseline and the raw SDK, measured in one run."""
