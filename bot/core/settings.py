"""Every setting cohortbot reads, from the environment and `.env`, in one object."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///cohortbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Configuration; secrets are `SecretStr` so they never show up in logs or reprs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    # Comma-separated people who may do anything: emails, console names or platform ids.
    admins: str = ""

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Slack send pacing: seconds between posts to one channel (Slack: ~1/s per channel); the
    # workspace-wide ceiling in posts/s (525/min, a vendor's published Slack figure: the real limit
    # is unpublished, 429s lower the rate from there) and its burst. 0 turns pacing off.
    slack_channel_interval: float = 1.0
    slack_workspace_burst: int = 1
    slack_workspace_rate: float = 525 / 60
    # Sends per second a deadline counts on: a reminder to N learners fires N / rate seconds before
    # it is due. 0: the slowest enabled platform's ceiling, less a margin for 429s.
    deadline_rate: float = 0.0

    microsoft_app_id: str = ""
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    teams_local: bool = False

    xapi_token: SecretStr | None = None
    # Keys anonymous survey ballots; never stored in the database (see README, "Surveys").
    survey_secret: SecretStr | None = None
    export_dir: str = "exports"
    log_level: str = Field(default="INFO")

    @property
    def admin_list(self) -> list[str]:
        return [a.strip().lower() for a in self.admins.split(",") if a.strip()]

    @property
    def slack_enabled(self) -> bool:
        # Any Slack credential asks for Slack (a missing one is then reported, not ignored).
        return any(
            secret is not None
            for secret in (self.slack_bot_token, self.slack_app_token, self.slack_signing_secret)
        )

    @property
    def teams_enabled(self) -> bool:
        # Any Teams credential asks for Teams: a half-configured one must fail loudly at start,
        # not fall back to the console.
        return bool(self.microsoft_app_id or self.microsoft_app_password) or self.teams_local
