"""Team challenges and points: teams, quizzes, tasks and weekly streaks, a points ledger fed by the
activity log, and a leaderboard fair to teams of different sizes."""

from bot.capabilities.challenges import (  # noqa: F401  (importing registers verbs, actions, events, listeners)
    answers,
    cards,
    closing,
    demo_hooks,
    leaderboard,
    ledger,
    points,
    posting,
    privacy,
    rules,
    streaks,
    tables,
    teams,
    wording,
)
