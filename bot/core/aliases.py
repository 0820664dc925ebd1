"""Other names of the verbs, per language: a French speaker may type `inscrire` for `enroll`.

The English names always work too. One table for every capability, so a translator sees every
alias at once and no two verbs claim the same word (tests/core/test_catalogues.py checks it).
"""

from __future__ import annotations

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {
        "absences": ("absences",),
        "absent": ("absent",),
        "award": ("attribuer",),
        "challenge": ("défi", "defi"),
        "challenges": ("défis", "defis"),
        "checkin": ("émarger", "emarger", "présent", "present"),
        "code": ("code",),
        "correct": ("corriger",),
        "create": ("créer", "creer"),
        "digest": ("résumé", "synthèse", "synthese"),  # not "resume": that is an English verb
        "done": ("fait", "terminé", "termine"),
        "enroll": ("inscrire",),
        "excuse": ("excuser",),
        "help": ("aide",),
        "lang": ("langue",),
        "leaderboard": ("classement",),
        "list": ("liste",),
        "lms-id": ("id-lms",),
        "manager": ("responsable",),
        "missing": ("manquants",),
        "module": ("module",),
        "mute": ("silence",),
        "pause": ("pause",),
        "points": ("points",),
        "reach": ("joignables", "portée", "portee"),
        "record": ("enregistrer",),
        "remind": ("rappeler",),
        "reminders": ("rappels",),
        "report": ("rapport",),
        "resume": ("reprendre",),
        "role": ("rôle", "role"),
        "session": ("séance", "seance"),
        "sheet": ("feuille", "émargement", "emargement"),
        "snooze": ("reporter",),
        "status": ("statut", "état", "etat"),
        "survey": ("sondage", "enquête", "enquete"),
        "team": ("équipe", "equipe"),
        "teams": ("équipes", "equipes"),
        "unmute": ("réactiver", "reactiver"),
        "window": ("fenêtre", "fenetre"),
    },
}


def verb_name(verb: str) -> str:
    """What a reader of the current language types for `verb` (its first alias, else its name)."""
    from bot.core.i18n import current

    return next(iter(ALIASES.get(current(), {}).get(verb, ())), verb)


def aliases_of(verb: str) -> dict[str, tuple[str, ...]]:
    """The other names of `verb`, per language (only those that differ from the English name)."""
    found = {}
    for lang, table in ALIASES.items():
        names = tuple(name for name in table.get(verb, ()) if name != verb)
        if names:
            found[lang] = names
    return found
