"""Every setting cohortbot reads, from the environment and `.env`, in one object."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///cohortbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# The Bot Framework's public cloud; README "Microsoft Teams" lists the US Government values.
PUBLIC_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
PUBLIC_TOKEN_ENDPOINT = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
PUBLIC_TOKEN_ISSUER = "https://api.botframework.com"


class Settings(BaseSettings):
    """Configuration; secrets are `SecretStr` so they never show up in logs or reprs."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    # The https address Slack, Teams and people's browsers reach this server at (behind the reverse
    # proxy), if any: report page links use it.
    public_url: str = ""
    # Comma-separated people who may do anything: emails, console names or platform ids.
    admins: str = ""

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Distribution through Slack's OAuth (`/slack/install`): many workspaces, one token each.
    slack_client_id: str = ""
    slack_client_secret: SecretStr | None = None
    # Where Slack's OAuth pages live (a stand-in in tests).
    slack_oauth_url: str = "https://slack.com/oauth/v2/authorize"
    # Slack send pacing: seconds between posts to one channel (Slack: ~1/s per channel); the
    # workspace-wide ceiling in posts/s (525/min, a vendor's published Slack figure: the real limit
    # is unpublished, 429s lower the rate from there) and its burst. 0 turns pacing off.
    slack_channel_interval: float = 1.0
    slack_workspace_burst: int = 1
    slack_workspace_rate: float = 525 / 60
    # Sends per second a deadline counts on: a reminder to N learners fires N / rate seconds before
    # it is due. 0: the slowest enabled platform's ceiling, less a margin for 429s.
    deadline_rate: float = 0.0

    # Seconds between two passes of the identity resolver (people enrolled by email, not yet found).
    identity_lookup_every: float = 60.0

    microsoft_app_id: str = ""
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    teams_local: bool = False
    # Which Bot Framework cloud: where Teams' signing keys are published (inbound tokens), where
    # the bot gets its own tokens (outbound), and the issuer (and scope) of channel tokens.
    microsoft_openid_metadata_url: str = PUBLIC_OPENID_METADATA_URL
    microsoft_token_endpoint: str = PUBLIC_TOKEN_ENDPOINT
    microsoft_token_issuer: str = PUBLIC_TOKEN_ISSUER
    # The operator's own pages, shown in the Teams app's store entry (`cohortbot manifest teams`).
    teams_developer_name: str = ""
    teams_website_url: str = ""
    teams_privacy_url: str = ""
    teams_terms_url: str = ""

    xapi_token: SecretStr | None = None
    # Statements whose actor is an `account` map to people by LMS user id only when the account's
    # homePage is this one (e.g. the Moodle site's URL); empty: any homePage.
    xapi_account_homepage: str = ""
    # xAPI out: the customer's LRS (its statements resource) and its Basic-auth key and secret.
    xapi_out_url: str = ""
    xapi_out_key: str = ""
    xapi_out_secret: SecretStr | None = None
    # Where the ids of cohortbot's own activities (sessions, modules, surveys, challenges) start.
    xapi_activity_base: str = "https://cohortbot.example/xapi"
    # Keys anonymous survey ballots; never stored in the database (see README, "Surveys").
    survey_secret: SecretStr | None = None
    # Keys the attendance hash chains (see README, "Audit evidence"); else derived from SURVEY_SECRET.
    evidence_secret: SecretStr | None = None
    # Ed25519 private key (PEM) that signs evidence checkpoints and audit packs; outside the database.
    evidence_signing_key: str | None = None
    # The training organisation, as certificates and audit packs name it (e.g. a Qualiopi NDA number).
    provider_name: str = ""
    provider_id: str = ""
    # Seconds one call to Slack or Teams may take (connect + answer). Kept well under the outbox
    # lease (120 s), so a slow send is given up on before another instance could send it again.
    platform_timeout: float = Field(default=10.0, gt=0, le=30)
    # Days raw xAPI statements, delivered message bodies and free text (absence reasons, activity
    # notes) are kept; a purge runs hourly (0: kept until a person is erased). See README, "Privacy".
    retention_days: int = Field(default=0, ge=0)
    export_dir: str = "exports"
    # Report pages (reached at PUBLIC_URL, else http://localhost:PORT): the key that signs their links
    # (else derived from EVIDENCE_SECRET or SURVEY_SECRET, else random per process), a link's life.
    report_link_secret: SecretStr | None = None
    report_link_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    log_level: str = Field(default="INFO")
    # The language of people whose own is unknown (no platform locale, no cohort yet), and so of
    # the cohorts they create.
    default_language: Literal["en", "fr"] = "en"
    log_format: str = "text"  # text | json (one object per line, with the inbound request id)

    @property
    def admin_list(self) -> list[str]:
        return [a.strip().lower() for a in self.admins.split(",") if a.strip()]

    @property
    def slack_enabled(self) -> bool:
        # Any Slack credential asks for Slack (a missing one is then reported, not ignored).
        return any(
            secret is not None
            for secret in (
                self.slack_bot_token,
                self.slack_app_token,
                self.slack_signing_secret,
                self.slack_client_secret,
            )
        ) or bool(self.slack_client_id)

    @property
    def slack_oauth_enabled(self) -> bool:
        """Installed through Slack's OAuth flow: tokens come from the database, per workspace."""
        return bool(self.slack_client_id) and self.slack_client_secret is not None

    @property
    def teams_enabled(self) -> bool:
        # Any Teams credential asks for Teams: a half-configured one must fail loudly at start,
        # not fall back to the console.
        return bool(self.microsoft_app_id or self.microsoft_app_password) or self.teams_local
