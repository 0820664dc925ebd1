"""The Teams app package: `manifest/teams/manifest.json` with the bot's id and command lists drawn
from the grammar, plus the two icons, zipped for a Teams admin to upload; and the rules Teams
checks on upload, so a bad package fails here rather than in the admin centre."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from bot.core import i18n
from bot.core.grammar import Verb
from bot.core.registry import VERBS, load_capabilities

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
DOMAIN_RE = re.compile(r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}(:\d+)?(/.*)?$", re.IGNORECASE)
# Limits of the Teams manifest schema (v1.17).
MAX_COMMANDS = 10
MAX_COMMAND_LISTS = 3
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
# The commands shown first in each scope's menu when the grammar has more than fit.
FIRST_IN_PERSONAL = ("help", "status", "list")
FIRST_IN_TEAMS = ("help", "create", "enroll", "status")


class ManifestError(ValueError):
    """The package would be refused by Teams; the message says why."""


@dataclass(frozen=True)
class Developer:
    """Who publishes the app, as the Teams store entry shows it: the operator, not cohortbot's
    authors. Empty fields keep the template's values."""

    name: str = ""
    website_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""

    def apply(self, manifest: dict[str, Any]) -> None:
        developer = manifest.setdefault("developer", {})
        for key, value in (
            ("name", self.name),
            ("websiteUrl", self.website_url),
            ("privacyUrl", self.privacy_url),
            ("termsOfUseUrl", self.terms_url),
        ):
            if value:
                developer[key] = value

    @property
    def complete(self) -> bool:
        return all((self.name, self.website_url, self.privacy_url, self.terms_url))


def load_template(directory: Path = MANIFEST_DIR) -> dict[str, Any]:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _ordered(verbs: list[Verb], first: tuple[str, ...]) -> list[Verb]:
    rank = {name: i for i, name in enumerate(first)}
    return sorted(verbs, key=lambda v: rank.get(v.name, len(rank)))


def command_lists(verbs: dict[str, Verb]) -> list[dict[str, Any]]:
    """The bot menu: learner commands in personal chat, trainer commands in teams and group chats
    (Teams shows at most 10 per scope)."""

    def commands(chosen: list[Verb]) -> list[dict[str, str]]:
        return [
            {"title": v.name[:MAX_COMMAND_TITLE], "description": v.summary[:MAX_COMMAND_DESCRIPTION]}
            for v in chosen[:MAX_COMMANDS]
        ]

    everyone = [v for v in verbs.values() if not v.staff_only]
    staff = [v for v in verbs.values() if v.staff_only]
    personal = _ordered(everyone, FIRST_IN_PERSONAL) + staff
    shared = _ordered(staff + everyone, FIRST_IN_TEAMS)
    return [
        {"scopes": ["personal"], "commands": commands(personal)},
        {"scopes": ["team", "groupChat"], "commands": commands(shared)},
    ]


def build_manifest(
    app_id: str,
    *,
    version: str | None = None,
    domains: tuple[str, ...] = (),
    directory: Path = MANIFEST_DIR,
    developer: Developer | None = None,
) -> dict[str, Any]:
    """The manifest for the bot registered as `app_id`, its menu generated from the grammar."""
    if not GUID_RE.match(app_id):
        raise ManifestError(
            f"'{app_id}' is not a Microsoft App ID: it looks like 00000000-0000-0000-0000-000000000000"
        )
    load_capabilities()
    manifest = load_template(directory)
    manifest["id"] = app_id
    if developer is not None:
        developer.apply(manifest)
    if version:
        manifest["version"] = version
    manifest["bots"][0]["botId"] = app_id
    # Resource-specific consent (meeting events) is granted to the app's Entra registration.
    manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://botid-{app_id}"}
    manifest["bots"][0]["commandLists"] = command_lists(VERBS)
    manifest["validDomains"] = sorted({*manifest.get("validDomains", []), *domains})
    problems = manifest_problems(manifest)
    if problems:
        raise ManifestError("; ".join(problems))
    return manifest


def localizations(manifest: dict[str, Any], directory: Path = MANIFEST_DIR) -> dict[str, dict[str, Any]]:
    """Each additional language's file (Teams `localizationInfo`): its committed name and
    descriptions, plus the menu's command descriptions translated through the catalogue. Command
    titles stay the English verbs, which every reader's bot understands."""
    files: dict[str, dict[str, Any]] = {}
    for language in (manifest.get("localizationInfo") or {}).get("additionalLanguages") or []:
        strings = json.loads((directory / language["file"]).read_text(encoding="utf-8"))
        with i18n.use(i18n.language_of(language["languageTag"])):
            for i, command_list in enumerate(manifest["bots"][0].get("commandLists") or []):
                for j, command in enumerate(command_list.get("commands") or []):
                    verb = VERBS.get(command["title"])
                    if verb is not None:
                        described = i18n._(verb.summary)[:MAX_COMMAND_DESCRIPTION]
                        strings[f"bots[0].commandLists[{i}].commands[{j}].description"] = described
        files[language["file"]] = strings
    return files


def localization_problems(manifest: dict[str, Any], files: dict[str, dict[str, Any]]) -> list[str]:
    """What Teams would refuse in the language files: a missing file, text over the manifest's limits."""
    problems: list[str] = []
    info = manifest.get("localizationInfo") or {}
    languages = info.get("additionalLanguages") or []
    if languages and not info.get("defaultLanguageTag"):
        problems.append("localizationInfo.defaultLanguageTag is missing")
    limits = {"name.short": 30, "name.full": 100, "description.short": 80, "description.full": 4000}
    for language in languages:
        strings = files.get(language.get("file", ""))
        if strings is None:
            problems.append(f"localization file {language.get('file')!r} is missing")
            continue
        for key, limit in limits.items():
            if key in strings and not 1 <= len(strings[key]) <= limit:
                problems.append(f"{language['file']}: {key} must have 1 to {limit} characters")
        for key, value in strings.items():
            if key.endswith(".description") and len(value) > MAX_COMMAND_DESCRIPTION:
                problems.append(f"{language['file']}: {key} is over {MAX_COMMAND_DESCRIPTION} characters")
    return problems


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """What Teams would refuse in this manifest (empty when it is fine)."""
    problems: list[str] = []
    for required in (
        "manifestVersion",
        "version",
        "id",
        "developer",
        "name",
        "description",
        "icons",
        "accentColor",
    ):
        if not manifest.get(required):
            problems.append(f"missing {required}")
    if not SEMVER_RE.match(str(manifest.get("version", ""))):
        problems.append(f"version '{manifest.get('version')}' is not MAJOR.MINOR.PATCH")
    if not GUID_RE.match(str(manifest.get("id", ""))):
        problems.append("id is not a GUID")
    developer = manifest.get("developer") or {}
    for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(developer.get(url, "")).startswith("https://"):
            problems.append(f"developer.{url} must be an https URL")
    name, description = manifest.get("name") or {}, manifest.get("description") or {}
    for label, value, limit in (
        ("name.short", name.get("short", ""), 30),
        ("name.full", name.get("full", ""), 100),
        ("description.short", description.get("short", ""), 80),
        ("description.full", description.get("full", ""), 4000),
    ):
        if not value or len(value) > limit:
            problems.append(f"{label} must have 1 to {limit} characters")
    if not re.match(r"^#[0-9a-fA-F]{6}$", str(manifest.get("accentColor", ""))):
        problems.append("accentColor must be #RRGGBB")
    bots = manifest.get("bots") or []
    if len(bots) != 1:
        problems.append("exactly one bot expected")
    for bot in bots:
        if not GUID_RE.match(str(bot.get("botId", ""))):
            problems.append("bots[0].botId is not a GUID")
        if not set(bot.get("scopes") or []) <= {"personal", "team", "groupChat"} or not bot.get("scopes"):
            problems.append("bots[0].scopes must be among personal, team, groupChat")
        lists = bot.get("commandLists") or []
        if len(lists) > MAX_COMMAND_LISTS:
            problems.append(f"at most {MAX_COMMAND_LISTS} command lists")
        for i, command_list in enumerate(lists):
            commands = command_list.get("commands") or []
            if len(commands) > MAX_COMMANDS:
                problems.append(f"commandLists[{i}] has {len(commands)} commands (at most {MAX_COMMANDS})")
            if not set(command_list.get("scopes") or []) <= set(bot.get("scopes") or []):
                problems.append(f"commandLists[{i}] uses a scope the bot does not have")
            for command in commands:
                if not 1 <= len(command.get("title", "")) <= MAX_COMMAND_TITLE:
                    problems.append(
                        f"command title '{command.get('title')}' must have 1 to "
                        f"{MAX_COMMAND_TITLE} characters"
                    )
                if not 1 <= len(command.get("description", "")) <= MAX_COMMAND_DESCRIPTION:
                    problems.append(
                        f"command '{command.get('title')}' description must have 1 to 128 characters"
                    )
    problems += meeting_permission_problems(manifest)
    for domain in manifest.get("validDomains") or []:
        if not DOMAIN_RE.match(domain) or (domain.startswith("*.") and domain.count(".") < 2):
            problems.append(
                f"validDomains entry '{domain}' is not a host name (no schemes, no top-level wildcards)"
            )
    return problems


# What a bot needs to receive a meeting's start and end and its participants joining and leaving:
# scheduled and group-chat meetings (`.Chat`), and channel meetings (`.Group`).
MEETING_PERMISSIONS = (
    "OnlineMeeting.ReadBasic.Chat",
    "OnlineMeetingParticipant.Read.Chat",
    "ChannelMeeting.ReadBasic.Group",
    "ChannelMeetingParticipant.Read.Group",
)


def meeting_permission_problems(manifest: dict[str, Any]) -> list[str]:
    """Meeting events come only to an app in group chats and teams, with the RSC permissions above
    (as Application permissions) and `webApplicationInfo` naming its registration."""
    problems: list[str] = []
    scopes = set(((manifest.get("bots") or [{}])[0]).get("scopes") or [])
    if not {"team", "groupChat"} <= scopes:
        problems.append("bots[0].scopes must include team and groupChat to receive meeting events")
    granted = {
        (p.get("name"), p.get("type"))
        for p in ((manifest.get("authorization") or {}).get("permissions") or {}).get("resourceSpecific")
        or []
        if isinstance(p, dict)
    }
    for name in MEETING_PERMISSIONS:
        if (name, "Application") not in granted:
            problems.append(f"authorization.permissions.resourceSpecific lacks {name} (Application)")
    info = manifest.get("webApplicationInfo") or {}
    if not GUID_RE.match(str(info.get("id", ""))) or not str(info.get("resource", "")):
        problems.append("webApplicationInfo needs the app's id and resource for its RSC permissions")
    return problems


def icon_problems(kind: str, data: bytes) -> list[str]:
    """Teams' icon rules: PNG, exact size; the outline icon white on a transparent background."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        return [f"{kind} icon is not an image"]
    problems = []
    if image.format != "PNG":
        problems.append(f"{kind} icon must be a PNG")
    if image.size != ICON_SIZES[kind]:
        problems.append(
            f"{kind} icon must be {ICON_SIZES[kind][0]}x{ICON_SIZES[kind][1]}, "
            f"not {image.size[0]}x{image.size[1]}"
        )
    if kind == "outline":
        rgba = image.convert("RGBA")
        pixels = list(rgba.getdata())
        if not any(a == 0 for *_, a in pixels):
            problems.append("outline icon needs a transparent background")
        if any(a > 0 and (r, g, b) != (255, 255, 255) for r, g, b, a in pixels):
            problems.append("outline icon must be white only")
    return problems


def build_package(
    app_id: str,
    out: Path,
    *,
    version: str | None = None,
    domains: tuple[str, ...] = (),
    directory: Path = MANIFEST_DIR,
    developer: Developer | None = None,
) -> dict[str, Any]:
    """Write the zip (manifest.json + icons at its root, as Teams wants) and return the manifest."""
    manifest = build_manifest(
        app_id, version=version, domains=domains, directory=directory, developer=developer
    )
    icons = {kind: (directory / manifest["icons"][kind]).read_bytes() for kind in ICON_SIZES}
    languages = localizations(manifest, directory)
    problems = [p for kind, data in icons.items() for p in icon_problems(kind, data)]
    problems += localization_problems(manifest, languages)
    if problems:
        raise ManifestError("; ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for kind, data in icons.items():
            package.writestr(manifest["icons"][kind], data)
        for name, strings in languages.items():
            package.writestr(name, json.dumps(strings, indent=2, ensure_ascii=False))
    return manifest
