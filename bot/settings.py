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
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id and self.microsoft_app_password) or self.teams_local
