"""Subscriber counts (SPEC §8): who polls each calendar and feed, per day, tracking nobody."""
