"""/play's resume offer: its buttons work after a restart, and once one is used they are disabled."""

from __future__ import annotations

import contextlib

import pytest

from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.voice import episode, slash, start_with
from driver.world import World
from emulator import InteractionRefused


def buttons(message) -> dict[str, dict]:
    return {c["label"]: c for row in message["components"] for c in row["components"]}


async def test_the_resume_offer_plays_after_a_restart_and_is_then_disabled(
    emu,
    world: World,
    start_bot,
    feeds: FeedServer,
    audio: AudioServer,
    voice,
    tones,
) -> None:
    url = audio.add("long.mp3", tones["long"])
    first = await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)])
    await slash(emu, world, "play", episode="latest")
    await voice.receiver(world.guild_id).wait_for_audio(1.0, timeout=20)
    await slash(emu, world, "seek", time="20")
    assert "Stopped" in await slash(emu, world, "stop")
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "play", options={"episode": "latest"}
    )
    assert "You stopped “Tone 1” at 0:2" in (await ix.wait_response())["data"]["content"]
    offer = ix.original
    assert offer is not None
    assert await first.stop() == 0

    await start_with(emu, world, start_bot, feeds, [episode(1, url, 40)])
    (resume,) = [b for label, b in buttons(offer).items() if label.startswith("Resume at 0:2")]
    click = await emu.click(int(offer["id"]), resume["custom_id"], world.member_id)
    kind, answer = await click.wait_answer(timeout=30)
    if kind == "edit":  # the offer disabled first would mean the reply is still to come
        answer = await click.wait_followup(timeout=30)
    assert "Playing **Tone 1** from 0:2" in answer["content"], answer
    receiver = voice.receiver(world.guild_id)
    await receiver.wait_for_audio(1.0, timeout=20)

    def disabled() -> bool:
        shown = emu.find_message(int(offer["id"]))
        return shown is not None and all(b.get("disabled") for b in buttons(shown).values())

    with contextlib.suppress(TimeoutError):  # the assertion below says what went wrong
        await emu.wait_until(disabled, timeout=10)
    assert disabled(), emu.find_message(int(offer["id"]))
    with pytest.raises(InteractionRefused, match="disabled"):
        await emu.click(int(offer["id"]), resume["custom_id"], world.member_id)

    # a forged click for an episode this server does not have is one sentence
    forged = await emu.forged_click(
        world.guild_id, world.text_id, world.member_id, "narrator:resume:999999:saved"
    )
    assert "no longer in my library" in (await forged.wait_response())["data"]["content"]
