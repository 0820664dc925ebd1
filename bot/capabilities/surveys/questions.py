"""Survey questions: their kinds, the shipped templates, inline specs, and answer validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.core.errors import UserError
from bot.core.i18n import N_, _

KINDS = ("rating", "nps", "single", "multi", "yesno", "text")
MAX_QUESTIONS = 5
MAX_TEXT = 2000
MAX_PROMPT = 300


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    kind: str
    prompt: str
    options: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "options": list(self.options)}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> QuestionSpec:
        return QuestionSpec(
            str(data["id"]), str(data["kind"]), str(data["prompt"]), tuple(data.get("options") or ())
        )

    @property
    def required(self) -> bool:
        """Free text is optional: a ballot is complete once every choice question is answered."""
        return self.kind != "text"


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    questions: tuple[QuestionSpec, ...]
    days_open: int = 3


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "session-feedback",
            N_("Session feedback"),
            (
                QuestionSpec("q1", "rating", N_("How useful was this session for you?")),
                QuestionSpec("q2", "text", N_("What would you keep or change?")),
            ),
        ),
        Template(
            "end-of-course",
            N_("End-of-course satisfaction"),
            (
                QuestionSpec("q1", "rating", N_("Overall, how satisfied are you with the course?")),
                QuestionSpec("q2", "nps", N_("How likely are you to recommend this course to a colleague?")),
                QuestionSpec("q3", "yesno", N_("Would you recommend it to someone in your team?")),
                QuestionSpec("q4", "text", N_("Anything else you would like to tell us? (free comment)")),
            ),
            days_open=7,
        ),
    )
}


def check_questions(questions: list[QuestionSpec]) -> None:
    """Refuse a question list a survey cannot be made of, with the reason."""
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise UserError(_("A survey has 1 to {max} questions, not {n}.", max=MAX_QUESTIONS, n=len(questions)))
    for q in questions:
        if q.kind not in KINDS:
            raise UserError(
                _("'{kind}' is not a question kind: use one of {kinds}.", kind=q.kind, kinds=", ".join(KINDS))
            )
        if not q.prompt.strip() or len(q.prompt) > MAX_PROMPT:
            raise UserError(
                _("Question {id} needs a prompt of 1 to {max} characters.", id=q.id, max=MAX_PROMPT)
            )
        if q.kind in ("single", "multi"):
            if not 2 <= len(q.options) <= 10 or any(not o.strip() for o in q.options):
                raise UserError(
                    _("Question {id} ({kind}) needs 2 to 10 non-empty options.", id=q.id, kind=q.kind)
                )
            if len({o.lower() for o in q.options}) != len(q.options) or any("," in o for o in q.options):
                raise UserError(_("Question {id} has repeated options or an option with a comma.", id=q.id))
        elif q.options:
            raise UserError(_("Question {id} ({kind}) takes no options.", id=q.id, kind=q.kind))


def parse_spec(index: int, spec: str) -> QuestionSpec:
    """An inline question `kind:prompt` (single/multi: `kind:prompt|option|option...`)."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind.strip().lower() not in KINDS:
        raise UserError(
            _(
                "'{spec}' is not a question: write kind:prompt with a kind among {kinds}, "
                'e.g. "rating:How was the pace?" or "single:Best part?|Labs|Talks".',
                spec=spec,
                kinds=", ".join(KINDS),
            )
        )
    prompt, *options = (part.strip() for part in rest.split("|"))
    return QuestionSpec(f"q{index}", kind.strip().lower(), prompt, tuple(options))


def parse_specs(specs: list[str]) -> list[QuestionSpec]:
    questions = [parse_spec(i + 1, s) for i, s in enumerate(specs)]
    check_questions(questions)
    return questions


def questions_from_rule(rule: dict[str, Any]) -> tuple[str, list[QuestionSpec], str | None]:
    """(title, questions, template name) of a programme rule or inline definition."""
    if rule.get("template"):
        template = TEMPLATES[rule["template"]]
        return str(rule.get("title") or template.title), list(template.questions), template.name
    questions = [
        QuestionSpec(
            f"q{i + 1}", str(q.get("kind", "")), str(q.get("prompt", "")), tuple(q.get("options") or ())
        )
        for i, q in enumerate(rule.get("questions") or [])
    ]
    return str(rule.get("title") or "Survey"), questions, None


def normalise_answer(q: QuestionSpec, raw: str) -> Any:
    """The stored form of one answer, or a UserError saying what a valid answer looks like."""
    text = raw.strip()
    if q.kind in ("rating", "nps"):
        high = 5 if q.kind == "rating" else 10
        low = 1 if q.kind == "rating" else 0
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise UserError(
                _(
                    "'{raw}' is not a valid answer to \"{prompt}\": pick a number from {low} to {high}.",
                    raw=raw,
                    prompt=_(q.prompt),
                    low=low,
                    high=high,
                )
            )
        return value
    if q.kind == "yesno":
        if text.lower() not in ("yes", "no"):
            raise UserError(
                _(
                    "'{raw}' is not a valid answer to \"{prompt}\": answer yes or no.",
                    raw=raw,
                    prompt=_(q.prompt),
                )
            )
        return text.lower()
    if q.kind == "text":
        if len(text) > MAX_TEXT:
            raise UserError(
                _(
                    'Your answer to "{prompt}" is too long: {max} characters at most.',
                    prompt=_(q.prompt),
                    max=MAX_TEXT,
                )
            )
        return text
    by_lower = {o.lower(): o for o in q.options}
    picked = [p.strip() for p in text.split(",")] if q.kind == "multi" else [text]
    unknown = [p for p in picked if p.lower() not in by_lower]
    if unknown or not picked:
        raise UserError(
            _(
                "'{raw}' is not an option of \"{prompt}\": pick from {options}.",
                raw=unknown[0] if unknown else raw,
                prompt=_(q.prompt),
                options=", ".join(q.options),
            )
        )
    if q.kind == "single":
        return by_lower[text.lower()]
    chosen = {by_lower[p.lower()] for p in picked}
    return [o for o in q.options if o in chosen]


def show_answer(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)
