"""What learners see: the survey card (neutral Question and TextInput blocks), its reminder and
closed forms, and every learner-facing sentence of surveys."""

from __future__ import annotations

from typing import Any

from bot.capabilities.surveys.models import Survey
from bot.capabilities.surveys.questions import QuestionSpec, show_answer
from bot.core import texts
from bot.core.messages import Block, Header, Message, Question, Text, TextInput

ANSWER_ACTION = "surveys.answer"

texts.register(
    {
        "surveys.intro": "{count} quick question(s). You can change your answers until {deadline}.",
        "surveys.anonymous": "Anonymous: nobody, trainers and admins included, can see who answered what.",
        "surveys.named": "Not anonymous: your trainers see your name next to your answers.",
        "surveys.reminder": "Reminder: *{title}* closes {deadline}. It takes a minute.",
        "surveys.thanks": "Thank you! Your answers are recorded. You can change them until {deadline}.",
        "surveys.partial": "Saved. {left} question(s) still to answer.",
        "surveys.closed": "*{title}* closed {when}. Thank you for your feedback.",
        "surveys.your_answer": "your answer: {answer}",
    }
)


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
    blocks: list[Block] = [Header(survey.title)]
    if reminder:
        blocks.append(Text(texts.t("surveys.reminder", title=survey.title, deadline=deadline)))
    if status_line:
        blocks.append(Text(status_line))
    else:
        blocks.append(Text(texts.t("surveys.intro", count=len(survey.questions), deadline=deadline)))
    value = str(survey.id)
    for q in questions_of(survey):
        prompt = q.prompt
        if answers and q.id in answers and answers[q.id] != "":
            prompt += " (" + texts.t("surveys.your_answer", answer=show_answer(answers[q.id])) + ")"
        if q.kind == "text":
            blocks.append(TextInput(q.id, prompt, ANSWER_ACTION, value))
        else:
            blocks.append(Question(q.id, prompt, q.kind, ANSWER_ACTION, q.options, value))  # type: ignore[arg-type]
    blocks.append(Text(texts.t("surveys.anonymous" if survey.anonymous else "surveys.named")))
    summary = f"Reminder: {survey.title}" if reminder else f"Survey: {survey.title}"
    if status_line:
        summary = f"{status_line.split('.')[0]}: {survey.title}"
    return Message(summary, tuple(blocks))


def closed_card(survey: Survey, tz: str) -> Message:
    """The same closed card for everyone, so it says nothing about who answered what."""
    when = texts.local_time(survey.closed_at or survey.closes_at, tz)
    text = texts.t("surveys.closed", title=survey.title, when=when)
    return Message(f"Closed: {survey.title}", (Header(survey.title), Text(text)))
