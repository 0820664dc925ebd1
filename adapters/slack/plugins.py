"""What the Slack adapter plugs into the engine when the composition root loads it: the tables of
installations and OAuth states (`slack_installations`, `slack_bots`, `slack_oauth_states`)."""

from adapters.slack import installations  # noqa: F401  (imported for its tables)
