"""Programmes (what happens when in a cohort) and the machinery that turns them into timed events."""
