"""Team challenges and points: teams, quizzes, tasks and weekly streaks, a points ledger fed by the
activity log, and a leaderboard fair to teams of different sizes."""

from bot.challenges import (  # noqa: F401  (importing registers verbs, actions, events, listeners)
    demo_hooks,
    leaderboard,
    ledger,
    lifecycle,
    points,
    rules,
    streaks,
    tables,
    teams,
    wording,
)
