"""/follow and /following: personal follows of a feed, an author or a keyword, told by DM.

Thin: matching and the record live in bot/follows; the DMs are sent by bot/follows/service.py
(`bot.follows`, started and stopped by the bot).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import outgoing
from bot.announce.store import AnnounceStore, Subscribed
from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.follows.buttons import UnfollowButton
from bot.follows.dm import described
from bot.follows.match import FollowKind
from bot.follows.store import FollowStore

Interaction = discord.Interaction[Narrator]
BUTTONS_MAX = 25  # a message holds at most 5 rows of 5 buttons


class Follows(commands.Cog):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = FollowStore(bot.db)
        self.announce = AnnounceStore(bot.db)

    async def _server_feeds(self, interaction: Interaction) -> dict[int, str]:
        """The feeds announced in this server (id -> name): the only ones a member may follow."""
        guild = interaction.guild
        if guild is None:
            return {}
        subs: list[Subscribed] = await self.announce.subscribed(guild_id=guild.id)
        return {
            s.feed_id: s.feed.name
            for s in subs
            if s.guild_id == guild.id or guild.get_channel(s.channel_id)
        }

    async def value_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if getattr(interaction.namespace, "kind", None) != "feed":
            return []  # an author or keyword is free text
        wanted = current.casefold()
        return [
            app_commands.Choice(name=_choice_name(name, id_), value=str(id_))
            for id_, name in (await self._server_feeds(interaction)).items()
            if wanted in name.casefold()
        ][:25]

    @app_commands.command(name="follow", description="Get a DM when a new episode matches.")
    @app_commands.describe(
        kind="Follow a whole feed, an author, or a word or phrase in titles",
        value="The feed (pick one announced here), the author's name, or the keyword",
    )
    @app_commands.autocomplete(value=value_autocomplete)
    @app_commands.guild_only()
    async def follow(
        self,
        interaction: Interaction,
        kind: Literal["feed", "author", "keyword"],
        value: app_commands.Range[str, 1, 200],
    ) -> None:
        assert interaction.guild_id is not None
        text = " ".join(value.split())
        if not text:
            raise UserFacingError("Type what to follow: a feed, an author's name or a keyword.")
        follow_kind: FollowKind = kind
        feed_id, shown = await self._feed(interaction, text) if kind == "feed" else (None, text)
        follow, new = await self.store.add(
            interaction.user.id,
            interaction.guild_id,
            follow_kind,
            shown,
            feed_id=feed_id,
            cap=self.bot.settings.follows.max_per_member,
        )
        if not new:
            reply = f"You already follow {described(follow)}."
        else:
            reply = (
                f"You now follow {described(follow)}: I'll send you a direct message when a new "
                "episode matches. Keep DMs from this server open to get them."
            )
        await interaction.response.send_message(reply, ephemeral=True)

    async def _feed(self, interaction: Interaction, text: str) -> tuple[int, str]:
        """The feed (id, name) a member picked from the list (its id) or typed (its name)."""
        feeds = await self._server_feeds(interaction)
        if text.isascii() and text.isdigit() and int(text) in feeds:  # not "²"
            return int(text), feeds[int(text)]
        named = [(i, name) for i, name in feeds.items() if name.casefold() == text.casefold()]
        if len(named) != 1:
            raise UserFacingError(
                "That feed isn't announced in this server: pick one from the list."
            )
        return named[0]

    @app_commands.command(name="following", description="What you follow here, to remove.")
    @app_commands.guild_only()
    async def following(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None
        user_id = interaction.user.id
        mine = await self.store.of_member(user_id, interaction.guild_id)
        elsewhere = len(await self.store.of_member(user_id)) - len(mine)
        lines = [f"• {described(f)}" for f in mine] or ["You follow nothing in this server yet."]
        after = f"(and {elsewhere} in other servers: use /following there)" if elsewhere else ""
        view = discord.ui.View(timeout=None)
        for follow in mine[:BUTTONS_MAX]:
            view.add_item(UnfollowButton(follow.id, f"Remove {follow.shown}"))
        await interaction.response.send_message(
            outgoing.whole_lines(lines, after=after), view=view, ephemeral=True
        )

    async def own_follow_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.casefold()
        return [
            app_commands.Choice(
                name=outgoing.clip(f"{f.kind}: {f.shown}", outgoing.CHOICE_NAME_MAX),
                value=str(f.id),
            )
            for f in await self.store.of_member(interaction.user.id, interaction.guild_id)
            if wanted in f.shown.casefold()
        ][:25]

    @app_commands.command(name="unfollow", description="Stop following something here.")
    @app_commands.describe(follow="One of your follows in this server")
    @app_commands.autocomplete(follow=own_follow_autocomplete)
    @app_commands.guild_only()
    async def unfollow(self, interaction: Interaction, follow: str) -> None:
        assert interaction.guild_id is not None
        # this server's follows only: another server's (its id typed or forged) stays
        mine = await self.store.of_member(interaction.user.id, interaction.guild_id)
        found = {str(f.id): f for f in mine}.get(follow.strip())
        if found is None:
            raise UserFacingError(
                "You don't follow that here: pick one of your follows in this server from the list."
            )
        await self.store.remove(interaction.user.id, found.id)
        await interaction.response.send_message(
            f"You no longer follow {described(found)}.", ephemeral=True
        )


def _choice_name(feed_name: str, feed_id: int) -> str:
    """A feed as a suggestion: 1 to 100 visible characters, or Discord refuses every suggestion
    (a feed titled with only invisible characters would take the others with it)."""
    return outgoing.clip(feed_name, outgoing.CHOICE_NAME_MAX) or f"Untitled feed {feed_id}"


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Follows(bot))
