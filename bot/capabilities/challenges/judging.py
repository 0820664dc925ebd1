"""Who wins a challenge: pure rules, no database.

Team scoring compares the share of each team's members who succeeded, so a team of 4 is not beaten by a
team of 8 for being bigger; every team with the best share wins (a tie is a shared win), and its members
who succeeded earn the points. Person scoring: everyone who succeeded wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Attempt:
    person_id: int
    team: str | None  # the team they played for when they answered
    succeeded: bool


@dataclass(frozen=True)
class Judgement:
    teams: tuple[str, ...] = ()  # winning teams (team scoring)
    people: tuple[int, ...] = ()  # everyone who earns the points
    rates: dict[str, tuple[int, int]] = field(default_factory=dict)  # team -> (succeeded, counted)

    def as_json(self) -> dict[str, object]:
        return {"teams": list(self.teams), "people": list(self.people), "rates": self.rates}


def judge(scoring: str, members: dict[int, str | None], attempts: list[Attempt]) -> Judgement:
    """`members`: the active learners at close and their current team. A learner counts once, for the
    team they answered for (or their current team if they did not answer); learners who left count nowhere."""
    attempts = [a for a in attempts if a.person_id in members]
    if scoring == "person":
        return Judgement(people=tuple(sorted(a.person_id for a in attempts if a.succeeded)))
    played_for = {**members, **{a.person_id: a.team for a in attempts}}
    counted: dict[str, int] = {}
    for team in played_for.values():
        if team:
            counted[team] = counted.get(team, 0) + 1
    right: dict[str, int] = {}
    for a in attempts:
        if a.succeeded and a.team:
            right[a.team] = right.get(a.team, 0) + 1
    rates = {team: (right.get(team, 0), n) for team, n in sorted(counted.items())}
    shares = {team: Fraction(r, n) for team, (r, n) in rates.items() if r}
    if not shares:
        return Judgement(rates=rates)
    best = max(shares.values())
    winners = tuple(sorted(team for team, share in shares.items() if share == best))
    people = tuple(sorted(a.person_id for a in attempts if a.succeeded and a.team in winners))
    return Judgement(teams=winners, people=people, rates=rates)
