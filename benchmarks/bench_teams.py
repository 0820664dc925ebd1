"""Teams proactive delivery: messages per second and CPU (process CPU time / wall time), for

1. bare botbuilder: `CloudAdapter.continue_conversation` per message, as the samples do;
2. our TeamsSender alone, pacing off (its capacity), then paced to Teams' limits (sustained);
3. the whole path at Teams' limits: outbox rows -> DeliveryWorker -> TeamsSender (paced to 30/s per
   tenant) -> botbuilder -> the connector.

The Bot Framework connector is the loopback stand-in, in its own process (its CPU is not ours),
answering each send after `--latency` seconds. Prints figures, never pass/fail.
Run: python benchmarks/bench_teams.py [--messages 300] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from botbuilder.core import TurnContext  # noqa: E402
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication  # noqa: E402
from botbuilder.schema import ConversationReference  # noqa: E402

from adapters.teams.pacing import Pacer  # noqa: E402
from adapters.teams.runtime import CONNECTOR_THREADS, build_runtime  # noqa: E402
from adapters.teams.sender import message_activity  # noqa: E402
from bot.app.bootstrap import build  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.delivery import Target  # noqa: E402
from bot.core.messages import Button, Buttons, Header, Message, Text  # noqa: E402
from bot.core.models import Identity, Person  # noqa: E402
from bot.core.outbox import Recipient, enqueue_dms  # noqa: E402
from bot.core.settings import Settings  # noqa: E402

TENANT = "bench-tenant"
BOT = {"id": "28:bench-bot", "name": "cohortbot"}
REMINDER = Message(
    "Kick-off starts in 15 minutes",
    (
        Header("Kick-off starts in 15 minutes"),
        Text("*Kick-off* with Tina, Mon 9 Mar 09:30 (Europe/Paris). <https://meet.example.com/k|Join>"),
        Buttons((Button("I'm here", "attendance.checkin", "42", "primary"),)),
    ),
)


def reference(url: str, i: int) -> dict[str, Any]:
    return {
        "user": {"id": f"29:user-{i}"},
        "bot": BOT,
        "conversation": {"id": f"a:dm-{i}", "conversationType": "personal", "tenantId": TENANT},
        "channelId": "msteams",
        "serviceUrl": url,
    }


async def measure(label: str, n: int, work: Any) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{label:<64} {n / wall:8.1f} msgs/s   CPU {cpu / wall:5.2f} core   {1000 * cpu / n:6.1f} ms CPU/msg"
    )


async def bare(url: str, n: int, concurrency: int) -> None:
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="", APP_PASSWORD=""))
    )
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        ref = ConversationReference().deserialize(reference(url, i))

        async def send(turn: TurnContext) -> None:
            await turn.send_activity(message_activity(REMINDER))

        async with semaphore:
            await adapter.continue_conversation(ref, send, bot_app_id="")

    async def run() -> None:
        await asyncio.gather(*(one(i) for i in range(n)))

    await measure(f"bare CloudAdapter.continue_conversation (x{concurrency})", n, run)


async def ours(url: str, n: int, concurrency: int, db: Path, *, paced: bool) -> None:
    app = await build(
        Settings(database_url=f"sqlite:///{db}", teams_local=True), {}, SystemClock(), schema="create"
    )
    unpaced = Pacer(conversation_windows=((10**9, 1.0),), tenant_windows=((10**9, 1.0),))
    sender = build_runtime(app, pacer=None if paced else unpaced).sender
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        target = Target(
            "teams", TENANT, f"29:user-{i}", f"k{i}", person_id=i, conversation_ref=reference(url, i)
        )
        async with semaphore:
            await sender.send(target, REMINDER)

    async def run() -> None:
        await asyncio.gather(*(one(i) for i in range(n)))

    pacing = "paced to Teams' limits (30/s per tenant)" if paced else "pacing off"
    await measure(f"TeamsSender, {pacing} (x{concurrency})", n, run)
    await app.close()


async def outbox(url: str, n: int, db: Path) -> None:
    """n learners in one tenant: the outbox path at Teams' 30 msgs/s tenant limit."""
    app = await build(
        Settings(database_url=f"sqlite:///{db}", teams_local=True), {}, SystemClock(), schema="create"
    )
    runtime = build_runtime(app)
    app.worker.senders["teams"] = runtime.sender  # type: ignore[index]
    now = app.clock.now()
    async with app.store.transaction() as session:
        people = [Person(display_name=f"learner{i}", created_at=now) for i in range(n)]
        session.add_all(people)
        await session.flush()
        session.add_all(
            Identity(
                person_id=p.id,
                platform="teams",
                workspace=TENANT,
                user_id=f"29:user-{i}",
                conversation_ref=reference(url, i),
            )
            for i, p in enumerate(people)
        )
        await session.flush()
        recipients = [Recipient(p.id or 0, f"reminder:{p.id}", REMINDER) for p in people]
        await enqueue_dms(session, recipients, now=now)

    async def run() -> None:
        while await app.worker.run_once():
            pass

    await measure("outbox -> DeliveryWorker -> TeamsSender, paced to 30/s/tenant", n, run)
    await app.close()


async def run_all(url: str, args: argparse.Namespace) -> None:
    n, concurrency = args.messages, args.concurrency
    print(f"Teams delivery, {n} messages, connector latency {args.latency * 1000:.0f} ms (stand-in process)")
    await bare(url, n, concurrency)  # botbuilder as shipped: the loop's default executor (few threads)
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(CONNECTOR_THREADS))
    await bare(url, n, concurrency)  # the same, with the thread pool our runtime sets up
    with tempfile.TemporaryDirectory() as tmp:
        await ours(url, n, concurrency, Path(tmp) / "ours.db", paced=False)
        await ours(url, n, concurrency, Path(tmp) / "paced.db", paced=True)
        await outbox(url, n, Path(tmp) / "outbox.db")
    print("Targets: >= 30 msgs/s sustained (Teams' tenant limit) using < 0.5 core.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05, help="connector round trip, seconds")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    standin = subprocess.Popen(
        [sys.executable, "-m", "tests.standins.bf_connector", "--latency", str(args.latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert standin.stdout is not None
        asyncio.run(run_all(standin.stdout.readline().strip(), args))
    finally:
        standin.terminate()
        standin.wait()


if __name__ == "__main__":
    main()
