"""What the Teams adapter plugs into the engine when the composition root loads it: the table of
channel and group-chat conversation references (`teams_conversation`)."""

from adapters.teams import conversations  # noqa: F401  (imported for its table)
