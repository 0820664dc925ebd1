"""Learner-facing sentences of challenges, teams and points."""

from __future__ import annotations

from bot.core import texts
from bot.core.i18n import N_

texts.register(
    {
        "challenges.team.moved": N_(
            "You're now in team *{team}* in {cohort}. Points you earned before stay with your old team; "
            "your own total follows you."
        ),
        "challenges.scoring.team": N_(
            "Each team scores the share of its members who {succeed}, so size doesn't matter. "
            "The best team wins (a tie is a shared win): "
            "its members who {succeed} earn *{points} points* each."
        ),
        "challenges.scoring.person": N_("Everyone who {succeeds} earns *{points} points*."),
        "challenges.closes": N_("Closes {when}."),
        "challenges.quiz.thanks": N_("Your answer *{answer}* is in. Results when the quiz closes ({when})."),
        "challenges.quiz.already": N_(
            "Your answer *{answer}* is already in: the first answer counts. "
            "Results when the quiz closes ({when})."
        ),
        "challenges.task.thanks": N_(
            "Marked as done. Well done! Results when the challenge closes ({when})."
        ),
        "challenges.task.thanks_confirm": N_(
            "Marked as done. A trainer will confirm it before the challenge closes ({when})."
        ),
        "challenges.task.already": N_(
            "You already marked it done. Results when the challenge closes ({when})."
        ),
        "challenges.refused.closed": N_(
            "Sorry, this challenge closed {when} and its winners were announced, so answers no longer count."
        ),
        "challenges.refused.late": N_(
            "Sorry, this challenge closed {when}: your answer came after the deadline, so it doesn't count."
        ),
        "challenges.refused.not_learner": N_("Only learners of {cohort} take part in its challenges."),
        "challenges.outcome.won": N_("You won *{points} points* in {title}."),
        "challenges.outcome.lost": N_("{title} is closed: no points this time. {why}"),
        "challenges.awarded": N_("You received *{points} points* in {cohort}: {reason}"),
    }
)
