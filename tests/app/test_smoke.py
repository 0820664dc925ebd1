from tests.conftest import Chat, RecordingSender


async def test_trainer_creates_cohort_and_learners_get_welcome_dms(
    chat: Chat, sender: RecordingSender
) -> None:
    assert "Created cohort" in await chat.say("tina", "create spoc tz=Europe/Paris")
    assert "Enrolled 2" in await chat.say("tina", "enroll spoc alice bob team=blue")
    await chat.app.worker.drain()
    assert [m.summary.startswith("Welcome") for m in sender.to("alice")] == [True]
    assert "Live session" not in await chat.say("alice", "status spoc")
