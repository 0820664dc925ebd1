"""What learners see: the survey card (neutral Question and TextInput blocks), its reminder and
closed forms, and every learner-facing sentence of surveys."""

from __future__ import annotations

from typing import Any

from bot.capabilities.surveys.models import Survey
from bot.capabilities.surveys.questions import TEMPLATES, QuestionSpec, show_answer
from bot.core import texts
from bot.core.i18n import N_, Np_, _
from bot.core.messages import Block, Header, Message, Question, Text, TextInput

ANSWER_ACTION = "surveys.answer"

texts.register(
    {
        "surveys.intro": Np_(
            "{n} quick question. You can change your answer until {deadline}.",
            "{n} quick questions. You can change your answers until {deadline}.",
        ),
        "surveys.anonymous": N_(
            "Anonymous: nobody, trainers and admins included, can see who answered what."
        ),
        "surveys.named": N_("Not anonymous: your trainers see your name next to your answers."),
        "surveys.reminder": N_("Reminder: *{title}* closes {deadline}. It takes a minute."),
        "surveys.thanks": N_("Thank you! Your answers are recorded. You can change them until {deadline}."),
        "surveys.partial": Np_(
            "Saved. {n} question still to answer.", "Saved. {n} questions still to answer."
        ),
        "surveys.closed": N_("*{title}* closed {when}. Thank you for your feedback."),
        "surveys.your_answer": N_("your answer: {answer}"),
    }
)


def survey_title(survey: Survey) -> str:
    """A template's title in the reader's language (with the session or module it is about)."""
    template = TEMPLATES.get(survey.template or "")
    if template is None or not survey.title.startswith(template.title):
        return survey.title
    subject = survey.title[len(template.title) :]
    if subject.startswith(": "):  # "Session feedback: Kick-off", as planning names one per session
        return _("{label}: {title}", label=_(template.title), title=subject[2:])
    return _(template.title) + subject


def prompt_of(q: QuestionSpec) -> str:
    """A template's prompts are catalogue messages; a trainer's own prompt is shown as written."""
    return _(q.prompt)


def questions_of(survey: Survey) -> list[QuestionSpec]:
    return [QuestionSpec.from_dict(q) for q in survey.questions]


def survey_card(
    survey: Survey,
    tz: str,
    *,
    answers: dict[str, Any] | None = None,
    reminder: bool = False,
    status_line: str | None = None,
) -> Message:
    """The survey as a card; with `answers`, each question shows the person's current answer."""
    deadline = texts.local_time(survey.closes_at, tz)
    title = survey_title(survey)
    blocks: list[Block] = [Header(title)]
    if reminder:
        blocks.append(Text(texts.t("surveys.reminder", title=title, deadline=deadline)))
    if status_line:
        blocks.append(Text(status_line))
    else:
        blocks.append(Text(texts.t("surveys.intro", n=len(survey.questions), deadline=deadline)))
    value = str(survey.id)
    for q in questions_of(survey):
        prompt = prompt_of(q)
        if answers and q.id in answers and answers[q.id] != "":
            prompt += " (" + texts.t("surveys.your_answer", answer=show_answer(answers[q.id])) + ")"
        if q.kind == "text":
            blocks.append(TextInput(q.id, prompt, ANSWER_ACTION, value))
        else:
            blocks.append(Question(q.id, prompt, q.kind, ANSWER_ACTION, q.options, value))  # type: ignore[arg-type]
    blocks.append(Text(texts.t("surveys.anonymous" if survey.anonymous else "surveys.named")))
    summary = _("Reminder: {title}", title=title) if reminder else _("Survey: {title}", title=title)
    if status_line:
        summary = _("{label}: {title}", label=status_line.split(".")[0], title=title)
    return Message(summary, tuple(blocks))


def closed_card(survey: Survey, tz: str) -> Message:
    """The same closed card for everyone, so it says nothing about who answered what."""
    when = texts.local_time(survey.closed_at or survey.closes_at, tz)
    title = survey_title(survey)
    text = texts.t("surveys.closed", title=title, when=when)
    return Message(_("Closed: {title}", title=title), (Header(title), Text(text)))
