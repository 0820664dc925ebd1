"""`cohortbot demo`: a six-week cohort run through the real engine on a simulated clock.

Thirty simulated learners in three teams and three time zones receive what the engine sends
and react like people do: most click, some late, some forget, a few drop out. The clock jumps
from one due event to the next, so six weeks take seconds. Capabilities add their own final
sections with @demo_section.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlmodel import col, func, select

from bot.app.bootstrap import App, build
from bot.core import i18n
from bot.core.clock import SimulatedClock
from bot.core.delivery import SendResult, Target
from bot.core.demo_script import COHORT, START, TRAINER, WEEKS
from bot.core.i18n import _
from bot.core.inbound import Action, Inbound, Profile
from bot.core.messages import Buttons, Message, Question, TextInput
from bot.core.models import OutboxMessage
from bot.core.people import upsert_profile
from bot.core.registry import DEMO_SECTIONS, DEMO_SETUP
from bot.core.render_text import render_text
from bot.core.settings import Settings
from bot.core.texts import local_time

MANAGERS = ("maya", "marc", "mei")
TEAMS = ("north", "south", "east")
SPOTLIGHT = "alice"  # the learner whose messages the transcript shows in full
LEARNERS = (
    "alice",
    "bruno",
    "chloe",
    "dev",
    "emma",
    "farid",
    "gina",
    "hugo",
    "ines",
    "jules",
    "kenji",
    "lena",
    "mateo",
    "nora",
    "omar",
    "priya",
    "quentin",
    "rosa",
    "sami",
    "tara",
    "ugo",
    "vera",
    "wes",
    "xena",
    "yusuf",
    "zoe",
    "amir",
    "bea",
    "cyril",
    "dina",
)
ZONES = ("Europe/Paris", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Europe/Paris")
# What an HR export says of each learner: the report's segments (site, department) come from it.
SITES = {"Europe/Paris": "Paris", "America/New_York": "New York", "Asia/Kolkata": "Bangalore"}
DEPARTMENTS = ("Sales", "Support", "Engineering")
COMMENTS = ("Great pace.", "More examples please.", "The exercises helped a lot.", "Too long for a Friday.")


@dataclass
class Persona:
    """How one simulated learner behaves."""

    name: str
    tz: str
    diligence: float  # chance to act on a message at all
    lateness: float  # chance to act late rather than at once
    drops_out_at: datetime | None
    satisfaction: float  # 0..1, biases answers to questions
    # Each learner draws from their own generator: messages are delivered concurrently, so a
    # shared one would make the run depend on delivery order.
    rng: random.Random = field(default_factory=random.Random)
    reactions: int = 0


@dataclass(order=True)
class Reaction:
    at: datetime
    person: str
    seq: int  # per person, so the order of simultaneous reactions never depends on delivery order
    action: Action = field(compare=False)


class DemoSender:
    """Receives every message the outbox delivers, prints the interesting ones, schedules reactions."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo

    async def send(self, target: Target, message: Message) -> SendResult:
        self.demo.on_delivered(target, message)
        return SendResult(message_id=target.key)

    async def update(
        self, target: Target, message_id: str, channel_id: str | None, message: Message
    ) -> SendResult:
        self.demo.delivered["card updates"] += 1
        return SendResult(message_id=message_id)


class Demo:
    def __init__(
        self,
        db_path: Path,
        *,
        seed: int = 7,
        out: TextIO | None = None,
        verbose: bool = False,
        lang: str = i18n.SOURCE_LANGUAGE,
    ) -> None:
        self.db_path = db_path
        self.lang = lang  # everyone's platform locale, and the cohort's language
        self.seed = seed
        self.rng = random.Random(seed)
        self.out = out or sys.stdout
        self.verbose = verbose
        self.clock = SimulatedClock(START)
        self.personas: dict[str, Persona] = {}
        self.reactions: list[Reaction] = []
        self.delivered: Counter[str] = Counter()
        self.reacted: Counter[str] = Counter()
        self.app: App

    @property
    def locale(self) -> str:
        return {"fr": "fr-FR"}.get(self.lang, "en-US")

    # -- output ---------------------------------------------------------------------------------
    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def stamp(self, tz: str = "Europe/Paris") -> str:
        return local_time(self.clock.now(), tz)

    # -- the run --------------------------------------------------------------------------------
    async def run(self) -> None:
        if self.db_path.exists():
            self.db_path.unlink()
        settings = Settings(database_url=f"sqlite:///{self.db_path}", admins=TRAINER)
        self.app = await build(settings, {"console": DemoSender(self)}, self.clock)
        try:
            with i18n.use(self.lang):  # the narration too, where it goes through the catalogue
                await self._story()
        finally:
            await self.app.close()

    async def _story(self) -> None:
        self.print(
            _(
                "cohortbot demo: a {weeks}-week SPOC, {learners} learners in {teams} teams, "
                "{managers} managers, simulated from {start}",
                weeks=WEEKS,
                learners=len(LEARNERS),
                teams=len(TEAMS),
                managers=len(MANAGERS),
                start=START.date().isoformat(),
            )
        )
        self.print(_("database: {path}", path=str(self.db_path)) + "\n")
        await self.setup()
        for _order, extra in sorted(DEMO_SETUP, key=lambda s: s[0]):
            await extra(self)
        await self.simulate(START + timedelta(weeks=WEEKS, days=3))
        await self.epilogue()

    async def say(self, who: str, text: str, *, show: bool = True) -> Message | None:
        sender = Profile("console", "", who, who, locale=self.locale)
        reply = await self.app.engine.handle(Inbound(sender=sender, text=text))
        if show:
            self.print(f"[{self.stamp()}] {who}: {text}")
            if reply is not None:
                self.print("  " + render_text(reply.message).replace("\n", "\n  "))
        return reply.message if reply else None

    async def setup(self) -> None:
        await self._create_personas()
        await self.say(TRAINER, f"create {COHORT} tz=Europe/Paris start={START:%Y-%m-%d} lang={self.lang}")
        for i, team in enumerate(TEAMS):
            members = LEARNERS[i::3]
            await self.say(TRAINER, f"enroll {COHORT} {' '.join(members)} team={team}", show=i == 0)
            await self.say(TRAINER, f"manager {COHORT} {MANAGERS[i]} {' '.join(members)}", show=i == 0)
        for week in range(WEEKS):
            monday = START + timedelta(weeks=week)
            tuesday = monday + timedelta(days=1)
            friday = monday + timedelta(days=4)
            await self.say(
                TRAINER,
                f'session {COHORT} "Live session {week + 1}" {tuesday:%Y-%m-%d} 14:00 90m',
                show=week == 0,
            )
            await self.say(
                TRAINER, f'module {COHORT} "Module {week + 1}" due {friday:%Y-%m-%d}', show=week == 0
            )
        self.print(
            "  "
            + _("... {sessions} sessions and {modules} modules added", sessions=WEEKS, modules=WEEKS)
            + "\n"
        )

    async def _create_personas(self) -> None:
        # What the platform would tell us about each person (their time zone), before they are enrolled.
        async with self.app.store.transaction() as session:
            for i, name in enumerate(LEARNERS):
                tz = ZONES[i % len(ZONES)]
                drops = self.rng.random() < 0.12
                self.personas[name] = Persona(
                    name=name,
                    tz=tz,
                    diligence=1.0 if name == SPOTLIGHT else self.rng.uniform(0.55, 0.98),
                    lateness=self.rng.uniform(0.05, 0.3),
                    drops_out_at=START + timedelta(days=self.rng.randint(10, 30)) if drops else None,
                    satisfaction=self.rng.uniform(0.4, 1.0),
                    rng=random.Random(f"{self.seed}:{name}"),
                )
                profile = Profile("console", "", name, name, tz=tz, locale=self.locale)
                person, _identity = await upsert_profile(session, profile, self.clock.now())
                person.site, person.department = SITES[tz], DEPARTMENTS[i % len(DEPARTMENTS)]
            for name in (TRAINER, *MANAGERS):
                profile = Profile("console", "", name, name, tz="Europe/Paris", locale=self.locale)
                await upsert_profile(session, profile, self.clock.now())

    async def simulate(self, end: datetime) -> None:
        self.print(_("-- six weeks, as {learner} and the cohort channel see them --", learner=SPOTLIGHT))
        runner = self.app.runner
        for _step in range(100_000):
            pending = await runner.pending()
            due = [e for e in pending if e.due_at <= self.clock.now()]
            for event in due:
                await runner.fire(event)
            await self.app.worker.drain()
            await self._react_due()
            if due:  # handlers may plan new events (a challenge's close, a survey's reminder)
                pending = await runner.pending()
            # Otherwise the plan still holds: learners' clicks add no events. Planning is most of
            # a step's cost, so it is done once per step where possible.
            later = [e.due_at for e in pending if e.due_at > self.clock.now()]
            upcoming = [
                t
                for t in (
                    min(later) if later else None,
                    await self._next_outbox(),
                    self.reactions[0].at if self.reactions else None,
                )
                if t is not None
            ]
            if not upcoming or min(upcoming) > end:
                break
            self.clock.set(max(min(upcoming), self.clock.now()))
        self.clock.set(end)

    async def _next_outbox(self) -> datetime | None:
        async with self.app.store.transaction() as session:
            row = await session.exec(
                select(func.min(OutboxMessage.next_attempt_at)).where(col(OutboxMessage.status) == "pending")
            )
            return row.one()

    # -- simulated people -------------------------------------------------------------------------
    def on_delivered(self, target: Target, message: Message) -> None:
        kind = target.key.split(":", 1)[0]
        self.delivered[kind] += 1
        if target.address == SPOTLIGHT or target.address.startswith("#"):
            who = _("channel") if target.address.startswith("#") else target.address
            self.print(f"[{self.stamp()}] -> {who}: {message.summary}")
            if self.verbose:
                self.print("    " + render_text(message).replace("\n", "\n    "))
        persona = self.personas.get(target.address)
        if persona is not None:
            self._plan_reaction(persona, target, message)

    def _plan_reaction(self, persona: Persona, target: Target, message: Message) -> None:
        now = self.clock.now()
        if persona.drops_out_at and now >= persona.drops_out_at:
            return
        if persona.rng.random() > persona.diligence:
            return  # forgot
        action = self._choose(persona, message)
        if action is None:
            return
        late = persona.rng.random() < persona.lateness
        delay = timedelta(minutes=persona.rng.randint(20, 240) if late else persona.rng.randint(1, 12))
        persona.reactions += 1
        self.reactions.append(Reaction(now + delay, persona.name, persona.reactions, action))
        self.reactions.sort()

    def _choose(self, persona: Persona, message: Message) -> Action | None:
        """Press the primary button, or answer the questions of the message."""
        inputs: dict[str, str] = {}
        chosen: Action | None = None
        for block in message.blocks:
            if isinstance(block, Buttons):
                primary = [b for b in block.buttons if b.style == "primary"]
                if primary and chosen is None:
                    chosen = Action(primary[0].action, primary[0].value)
            elif isinstance(block, Question):
                inputs[block.question_id] = self._answer(persona, block)
                chosen = chosen or Action(block.action, block.value)
            elif isinstance(block, TextInput) and persona.rng.random() < 0.3:
                inputs[block.input_id] = persona.rng.choice(COMMENTS)
                chosen = chosen or Action(block.action, block.value)
        if chosen is None:
            return None
        return Action(chosen.action_id, chosen.value, inputs)

    def _answer(self, persona: Persona, question: Question) -> str:
        choices = question.choices()
        if question.question_kind in ("rating", "nps"):
            top = len(choices) - 1
            index = round(top * min(1.0, max(0.0, persona.rng.gauss(persona.satisfaction, 0.15))))
            return choices[index]
        if question.question_kind == "yesno":
            return "yes" if persona.rng.random() < persona.satisfaction else "no"
        if question.question_kind == "multi":
            picked = [c for c in choices if persona.rng.random() < 0.4] or [choices[0]]
            return ",".join(picked)
        return persona.rng.choice(choices) if choices else ""

    async def _react_due(self) -> None:
        now = self.clock.now()
        while self.reactions and self.reactions[0].at <= now:
            reaction = self.reactions.pop(0)
            reply = await self.app.engine.handle(
                Inbound(
                    sender=Profile("console", "", reaction.person, reaction.person),
                    action=reaction.action,
                    event_time=now,
                )
            )
            self.reacted[reaction.action.action_id] += 1
            if reaction.person == SPOTLIGHT and reply is not None:
                pressed = _(
                    "{learner} pressed {action}: {reply}",
                    learner=SPOTLIGHT,
                    action=reaction.action.action_id,
                    reply=reply.message.summary,
                )
                self.print(f"[{self.stamp()}] {pressed}")
        await self.app.worker.drain()

    # -- the end --------------------------------------------------------------------------------
    async def epilogue(self) -> None:
        self.print("\n" + _("-- what was delivered --"))
        for kind, n in sorted(self.delivered.items()):
            # The outbox's kinds are its keys' prefixes, shown as they are; the updates are counted here.
            shown = _("card updates") if kind == "card updates" else kind
            self.print(f"  {shown:<24} {n}")
        if self.reacted:
            self.print(_("-- what learners did --"))
            for kind, n in sorted(self.reacted.items()):
                self.print(f"  {kind:<24} {n}")
        self.print("\n" + _("-- final state --"))
        await self.say(TRAINER, f"status {COHORT}")
        for _order, section in sorted(DEMO_SECTIONS, key=lambda s: s[0]):
            self.print("")
            await section(self)
