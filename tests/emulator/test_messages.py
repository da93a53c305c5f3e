"""Messages through discord.py: limits Discord enforces, permissions, nonce dedup, threads, DMs."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route, handle_message_parameters

from emulator import ChannelType, DiscordEmulator, Permissions

from .conftest import EmuBot, Sample, running


def text_channel(bot: EmuBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_send_edit_history_delete(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        channel = text_channel(bot, sample.text.id)
        embed = discord.Embed(
            title="Episode 1", description="An essay", url="https://example.com/1"
        )
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Listen", url="https://example.com/1.mp3"))
        sent = await channel.send("new episode", embed=embed, view=view)
        stored = emu.messages(sample.text.id)
        assert len(stored) == 1 and stored[0]["id"] == str(sent.id)
        assert stored[0]["embeds"][0]["title"] == "Episode 1"
        assert stored[0]["components"][0]["components"][0]["url"] == "https://example.com/1.mp3"
        second = await channel.send("second")
        history = [m.content async for m in channel.history(limit=10)]
        assert history == ["second", "new episode"]
        await sent.edit(content="edited")
        assert emu.messages(sample.text.id)[0]["content"] == "edited"
        await second.delete()
        assert [m["content"] for m in emu.messages(sample.text.id)] == ["edited"]
        fetched = await channel.fetch_message(sent.id)
        assert fetched.content == "edited"
        with pytest.raises(discord.NotFound) as missing:
            await channel.fetch_message(second.id)
        assert missing.value.code == 10008


def post_message(channel_id: int) -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title"),
        ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description"),
        ({"embeds": [{"title": str(i)} for i in range(11)]}, "embeds"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, "embeds.0.author.name"),
        ({"content": "x", "components": [{"type": 1, "components": []}] * 6}, "components"),
    ],
)
async def test_what_discord_rejects_is_50035_naming_the_field(
    emu: DiscordEmulator, sample: Sample, payload: dict[str, object], field: str
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        with pytest.raises(discord.HTTPException) as exc:
            await bot.http.request(post_message(sample.text.id), json=payload)
        assert exc.value.status == 400 and exc.value.code == 50035
        assert f"In {field}:" in exc.value.text
    assert emu.messages(sample.text.id) == []


async def test_embed_field_and_url_limits(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        channel = text_channel(bot, sample.text.id)
        too_many = discord.Embed(title="t")
        for i in range(26):
            too_many.add_field(name=str(i), value="v")
        for embed in (
            too_many,
            discord.Embed(title="t").add_field(name="n", value="v" * 1025),
            discord.Embed(title="t", url="ftp://example.com"),
            discord.Embed(title="t").set_footer(text="f" * 2049),
        ):
            with pytest.raises(discord.HTTPException) as exc:
                await channel.send(embed=embed)
            assert exc.value.code == 50035


async def test_empty_message_is_50006(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        with pytest.raises(discord.HTTPException) as exc:
            await bot.http.send_message(sample.text.id, params=handle_message_parameters())
        assert exc.value.code == 50006


async def test_components_over_limits_are_rejected(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        row = {
            "type": 1,
            "components": [
                {"type": 2, "style": 1, "label": str(i), "custom_id": f"b{i}"} for i in range(6)
            ],
        }
        link_with_id = {
            "type": 1,
            "components": [
                {"type": 2, "style": 5, "label": "x", "url": "https://e.com", "custom_id": "no"}
            ],
        }
        for components in ([row], [link_with_id]):
            with pytest.raises(discord.HTTPException) as exc:
                await bot.http.request(
                    post_message(sample.text.id), json={"content": "hi", "components": components}
                )
            assert exc.value.code == 50035


async def test_malformed_json_is_50109(emu: DiscordEmulator, sample: Sample) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emu.api_base}/channels/{sample.text.id}/messages",
            data=b"{not json",
            headers={"Authorization": "Bot test-token", "Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 400
        assert resp.headers["Content-Type"] == "application/json"
        assert (await resp.json())["code"] == 50109


async def test_missing_send_permission_is_403_50013(emu: DiscordEmulator, sample: Sample) -> None:
    emu.deny(sample.text.id, sample.guild.id, Permissions.SEND_MESSAGES)
    bot = EmuBot()
    async with running(emu, bot):
        channel = text_channel(bot, sample.text.id)
        assert not channel.permissions_for(channel.guild.me).send_messages  # discord.py agrees
        with pytest.raises(discord.Forbidden) as exc:
            await channel.send("hello")
        assert exc.value.code == 50013
        await text_channel(bot, sample.news.id).send("still fine elsewhere")


async def test_unknown_channel_is_404_10003(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        with pytest.raises(discord.NotFound) as exc:
            await bot.http.send_message(
                123456789012345678, params=handle_message_parameters(content="x")
            )
        assert exc.value.code == 10003


async def test_repeated_nonce_returns_the_first_message(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        channel = text_channel(bot, sample.text.id)
        first = await channel.send("once", nonce=42)
        again = await channel.send("twice?", nonce=42)
        assert again.id == first.id and again.content == "once"
        assert [m["content"] for m in emu.messages(sample.text.id)] == ["once"]


async def test_crosspost_only_in_announcement_channels(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        news = text_channel(bot, sample.news.id)
        message = await news.send("published")
        await message.publish()
        assert emu.messages(sample.news.id)[0]["flags"] & 1
        plain = await text_channel(bot, sample.text.id).send("not news")
        with pytest.raises(discord.HTTPException):
            await plain.publish()


async def test_forum_post_and_thread_from_message(emu: DiscordEmulator, sample: Sample) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        forum = bot.get_channel(sample.forum.id)
        assert isinstance(forum, discord.ForumChannel)
        post = await forum.create_thread(name="Episode 7", content="Listen now")
        assert post.thread.name == "Episode 7" and post.message.content == "Listen now"
        [thread] = emu.threads(sample.forum.id)
        assert thread["name"] == "Episode 7" and thread["message"]["content"] == "Listen now"
        with pytest.raises(discord.HTTPException) as exc:
            await forum.create_thread(name="x" * 101, content="too long a name")
        assert exc.value.code == 50035

        message = await text_channel(bot, sample.text.id).send("discuss")
        thread_channel = await message.create_thread(name="Discussion")
        await thread_channel.send("first reply")
        [discussion] = emu.threads(sample.text.id)
        assert discussion["id"] == str(message.id)
        assert [m["content"] for m in discussion["messages"]] == ["first reply"]


async def test_archived_forum_posts_leave_the_active_list_and_page_newest_first(
    emu: DiscordEmulator, sample: Sample
) -> None:
    bot = EmuBot()
    async with running(emu, bot):
        forum = bot.get_channel(sample.forum.id)
        assert isinstance(forum, discord.ForumChannel)
        posts = [
            (await forum.create_thread(name=f"Post {n}", content="x")).thread for n in range(3)
        ]
        for post in posts:
            emu.archive_thread(post.id)
        first = await bot.http.get_public_archived_threads(forum.id, limit=2)
        assert [t["name"] for t in first["threads"]] == ["Post 2", "Post 1"] and first["has_more"]
        before = first["threads"][-1]["thread_metadata"]["archive_timestamp"]
        rest = await bot.http.get_public_archived_threads(forum.id, before=before, limit=2)
        assert [t["name"] for t in rest["threads"]] == ["Post 0"] and not rest["has_more"]

        emu.archive_thread(posts[2].id, archived=False)
        active = await forum.guild.active_threads()
        assert [t.name for t in active if t.parent_id == forum.id] == ["Post 2"]
        assert [t.name async for t in forum.archived_threads()] == ["Post 1", "Post 0"]


async def test_dm_and_closed_dms(emu: DiscordEmulator, sample: Sample) -> None:
    bob = emu.add_user("bob", dms_open=False)
    emu.add_member(sample.guild.id, bob.id)
    bot = EmuBot()
    async with running(emu, bot):
        alice = await bot.fetch_user(sample.alice.id)
        await alice.send("hello alice")
        assert [m["content"] for m in emu.dms(sample.alice.id)] == ["hello alice"]
        with pytest.raises(discord.Forbidden) as exc:
            await (await bot.fetch_user(bob.id)).send("hello bob")
        assert exc.value.code == 50007


async def test_role_add_needs_manage_roles_and_a_lower_role(
    emu: DiscordEmulator, sample: Sample
) -> None:
    above = emu.add_role(sample.guild.id, "Admins", position=50)
    bot = EmuBot()
    async with running(emu, bot):
        guild = bot.get_guild(sample.guild.id)
        assert guild is not None
        member = await guild.fetch_member(sample.alice.id)
        await member.add_roles(discord.Object(sample.role.id))
        assert sample.role.id in emu.guilds[sample.guild.id].members[sample.alice.id].role_ids
        with pytest.raises(discord.Forbidden):
            await member.add_roles(discord.Object(above.id))
        await member.remove_roles(discord.Object(sample.role.id))
        assert emu.guilds[sample.guild.id].members[sample.alice.id].role_ids == []


async def test_incoming_webhook_by_production_url(emu: DiscordEmulator, sample: Sample) -> None:
    hook = emu.add_webhook(sample.text.id)
    assert hook.url.startswith("https://discord.com/api/webhooks/")
    bot = EmuBot()
    async with running(emu, bot):
        webhook = discord.Webhook.from_url(hook.url, client=bot)
        sent = await webhook.send("via webhook", wait=True)
        assert sent.content == "via webhook"
        assert emu.messages(sample.text.id)[0]["webhook_id"] == str(hook.id)


async def test_channel_types_of_the_sample(sample: Sample) -> None:
    assert sample.news.type == ChannelType.NEWS == 5
    assert sample.forum.type == ChannelType.FORUM == 15


async def test_file_upload_is_stored_and_served(emu: DiscordEmulator, sample: Sample) -> None:
    import io

    bot = EmuBot()
    async with running(emu, bot):
        sent = await text_channel(bot, sample.text.id).send(
            "with a file", file=discord.File(io.BytesIO(b"ID3 audio"), filename="episode.mp3")
        )
        [attachment] = sent.attachments
        assert attachment.filename == "episode.mp3" and attachment.size == 9
        assert await attachment.read() == b"ID3 audio"


async def test_files_above_the_upload_limit_are_refused(
    emu: DiscordEmulator, sample: Sample
) -> None:
    import io

    from emulator.rest_common import UPLOAD_LIMIT

    bot = EmuBot()
    async with running(emu, bot):
        channel = text_channel(bot, sample.text.id)
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(
                "too big", file=discord.File(io.BytesIO(b"\0" * (UPLOAD_LIMIT + 1)), "big.ogg")
            )
        assert (refused.value.status, refused.value.code) == (413, 40005)
        assert not emu.messages(sample.text.id)
        sent = await channel.send(file=discord.File(io.BytesIO(b"\0" * UPLOAD_LIMIT), "ok.ogg"))
        assert sent.attachments[0].size == UPLOAD_LIMIT
