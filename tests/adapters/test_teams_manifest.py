"""The Teams app manifest and icons pass the rules Teams enforces on upload, and the package
built by `cohortbot manifest teams` is what an admin uploads."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from adapters.teams.manifest import (
    MANIFEST_DIR,
    MAX_COMMANDS,
    ManifestError,
    build_manifest,
    icon_problems,
    load_template,
    localization_problems,
    manifest_problems,
)
from bot.app.cli import app as cli
from bot.core.registry import VERBS, load_capabilities

APP_ID = "6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"


def test_committed_manifest_and_icons_follow_the_teams_rules() -> None:
    load_capabilities()
    manifest = load_template()
    assert manifest_problems(manifest) == []
    (bot,) = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    commands = [c["title"] for lst in bot["commandLists"] for c in lst["commands"]]
    assert commands and set(commands) <= set(VERBS)  # the menu only offers verbs the grammar knows
    for kind, size in (("color", (192, 192)), ("outline", (32, 32))):
        data = (MANIFEST_DIR / manifest["icons"][kind]).read_bytes()
        assert Image.open(io.BytesIO(data)).size == size
        assert icon_problems(kind, data) == []


def test_built_manifest_grants_the_meeting_permissions_to_the_app() -> None:
    manifest = build_manifest(APP_ID)
    granted = {p["name"]: p["type"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]}
    assert granted == {
        "OnlineMeeting.ReadBasic.Chat": "Application",
        "OnlineMeetingParticipant.Read.Chat": "Application",
        "ChannelMeeting.ReadBasic.Group": "Application",
        "ChannelMeetingParticipant.Read.Group": "Application",
    }
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}
    assert int(manifest["manifestVersion"].split(".")[1]) >= 12  # RSC in the manifest needs 1.12+


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.update(version="1.0"), "MAJOR.MINOR.PATCH"),
        (lambda m: m.pop("developer"), "missing developer"),
        (lambda m: m["name"].update(short="x" * 31), "name.short"),
        (lambda m: m["bots"][0].update(botId="not-a-guid"), "botId"),
        (
            lambda m: m["bots"][0]["commandLists"][0]["commands"].extend(
                [{"title": "x", "description": "y"}] * 11
            ),
            "at most 10",
        ),
        (
            lambda m: m["bots"][0]["commandLists"][0]["commands"].append(
                {"title": "t" * 33, "description": "y"}
            ),
            "title",
        ),
        (lambda m: m.update(validDomains=["https://cohortbot.example.com"]), "validDomains"),
        # Meeting attendance (issue 19): no participant events without these.
        (lambda m: m["bots"][0].update(scopes=["personal", "team"]), "groupChat"),
        (lambda m: m.pop("authorization"), "OnlineMeetingParticipant.Read.Chat"),
        (
            lambda m: m["authorization"]["permissions"]["resourceSpecific"].pop(3),
            "ChannelMeetingParticipant.Read.Group",
        ),
        (
            lambda m: m["authorization"]["permissions"]["resourceSpecific"][0].update(type="Delegated"),
            "OnlineMeeting.ReadBasic.Chat",
        ),
        (lambda m: m.pop("webApplicationInfo"), "webApplicationInfo"),
    ],
)
def test_manifest_rules_catch_what_teams_refuses(change: object, problem: str) -> None:
    manifest = load_template()
    change(manifest)  # type: ignore[operator]
    assert any(problem in p for p in manifest_problems(manifest))


def test_icon_rules() -> None:
    def png(size: tuple[int, int], color: tuple[int, int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGBA", size, color).save(out, "PNG")
        return out.getvalue()

    assert "192x192" in " ".join(icon_problems("color", png((100, 100), (1, 2, 3, 255))))
    assert "transparent" in " ".join(icon_problems("outline", png((32, 32), (255, 255, 255, 255))))
    assert icon_problems("outline", png((32, 32), (0, 0, 0, 0))) == []


def test_menu_stays_within_limits_when_the_grammar_grows() -> None:
    from bot.core.grammar import Verb

    many = {f"verb{i}": Verb(f"verb{i}", (), f"does thing {i}", staff_only=i % 2 == 0) for i in range(25)}
    many["help"] = Verb("help", (), "list commands")
    from adapters.teams.manifest import command_lists

    lists = command_lists(many)
    assert all(len(lst["commands"]) == MAX_COMMANDS for lst in lists)
    assert lists[0]["commands"][0]["title"] == "help"


def test_cli_builds_the_package_an_admin_uploads(tmp_path: Path) -> None:
    out = tmp_path / "cohortbot-teams.zip"
    result = CliRunner().invoke(
        cli, ["manifest", "teams", "--app-id", APP_ID, "--out", str(out), "--version", "1.2.3"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "fr.json", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        french = json.loads(package.read("fr.json"))
    # French readers see a French description and menu (Teams' localizationInfo); the commands stay verbs.
    assert manifest["localizationInfo"]["additionalLanguages"] == [
        {"languageTag": "fr-fr", "file": "fr.json"}
    ]
    assert french["description.short"].startswith("Rappels, émargement")
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    help_at = next(i for i, c in enumerate(commands) if c["title"] == "help")
    assert (
        french[f"bots[0].commandLists[0].commands[{help_at}].description"] != commands[help_at]["description"]
    )
    assert localization_problems(manifest, {"fr.json": french}) == []
    assert localization_problems(manifest, {}) == ["localization file 'fr.json' is missing"]
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID and manifest["version"] == "1.2.3"
    assert manifest_problems(manifest) == []


def test_cli_refuses_a_bad_app_id_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["manifest", "teams", "--app-id", "my-bot", "--out", str(tmp_path / "x.zip")]
    )
    assert result.exit_code == 2 and "not a Microsoft App ID" in result.output
    assert not (tmp_path / "x.zip").exists()
    with pytest.raises(ManifestError):
        build_manifest(APP_ID, version="v2")
