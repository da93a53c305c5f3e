"""/feed: admins add, remove, inspect and preview the feeds this server is announced from."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import outgoing
from bot.announce.notify_role import why_not_mentioned
from bot.announce.poller import fetch_and_parse
from bot.announce.render import episode_embed, episode_view
from bot.announce.store import AnnounceStore, StoredEpisode, Subscribed
from bot.announce.subscriptions import feed_limit_error
from bot.bot import Narrator
from bot.errors import UserFacingError
from bot.feeds.fetch import FeedFetchError
from bot.feeds.model import Feed, FeedParseError
from bot.redact import redact_url

Interaction = discord.Interaction[Narrator]
PostableChannel = discord.TextChannel | discord.ForumChannel
POST_LATEST_SECONDS = 60.0
"""/feed post-latest re-posts (and re-pings) a subscription's newest episode once a minute at most."""


def check_feed_url(url: str) -> str:
    url = url.strip()
    if outgoing.usable_url(url, 2048) is None:  # also "http://[::1" and other malformed ones
        raise UserFacingError("That isn't a feed address: give the full http(s) URL of the feed.")
    return url


def check_can_post(channel: PostableChannel) -> None:
    me = channel.guild.me
    perms = channel.permissions_for(me)
    needed = {
        "view_channel": "View Channel",
        "send_messages": "Send Messages",
        "embed_links": "Embed Links",
    }
    if isinstance(channel, discord.ForumChannel):
        needed["send_messages"] = "Create Posts"
    missing = [label for perm, label in needed.items() if not getattr(perms, perm)]
    if missing:
        raise UserFacingError(
            f"I can't post in {channel.mention}: I need the {', '.join(missing)} permission there."
        )
    if isinstance(channel, discord.ForumChannel) and channel.flags.require_tag:
        raise UserFacingError(  # Discord would refuse every post (40067)
            f"I can't post in {channel.mention}: it requires a tag on every post, and I don't "
            "choose tags. Turn off Require Tags in its settings, or pick another channel."
        )


def member_can_post(channel: discord.abc.GuildChannel | discord.Thread, member: object) -> bool:
    """Whether `member` can see `channel` and post in it themselves (a forum: create posts)."""
    if not isinstance(member, discord.Member):
        return False
    perms = channel.permissions_for(member)
    if isinstance(channel, discord.Thread):
        return perms.view_channel and perms.send_messages_in_threads
    return perms.view_channel and perms.send_messages


def check_member_can_post(
    channel: discord.abc.GuildChannel | discord.Thread, member: object
) -> None:
    """A member with Manage Server points announcements (and their role pings) only at a channel
    they can see and post in themselves: not at a staff room closed to them."""
    if not member_can_post(channel, member):
        raise UserFacingError(
            f"You can't post in {channel.mention} yourself, so you can't have me announce there."
        )


def shown_name(name: str) -> str:
    """A feed's name as a reply shows it: visible characters, bold-safe, a sensible length."""
    return outgoing.escape(outgoing.clip(name, 200))


def relative(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return discord.utils.format_dt(
        discord.utils.utcnow().fromtimestamp(timestamp, tz=discord.utils.utcnow().tzinfo), "R"
    )


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Feeds(
    commands.GroupCog,
    group_name="feed",
    group_description="Manage the podcast feeds announced here.",
):
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = AnnounceStore(bot.db)
        self._posted_latest: dict[int, float] = {}  # subscription id -> monotonic time of its post
        super().__init__()

    async def interaction_check(self, interaction: Interaction) -> bool:
        """Discord hides /feed from members without Manage Server (default_permissions above),
        but a server admin can open it to anyone in the server's Integrations settings: every
        /feed command checks again here."""
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def _probe(self, url: str) -> Feed:
        try:
            return await fetch_and_parse(self.bot.feed_session, url, self.bot.settings.announce)
        except FeedFetchError as exc:
            raise UserFacingError(str(exc)) from exc
        except FeedParseError as exc:
            raise UserFacingError(f"That address does not serve a podcast feed: {exc}") from exc

    async def _guild_subscriptions(self, interaction: Interaction) -> list[Subscribed]:
        assert interaction.guild is not None
        guild = interaction.guild
        subs = await self.store.subscribed(guild_id=guild.id)
        return [s for s in subs if s.guild_id == guild.id or guild.get_channel(s.channel_id)]

    def _postable_by(self, interaction: Interaction, sub: Subscribed) -> bool:
        """Whether the member may act on `sub`'s channel: see and post in it (or it is gone)."""
        assert interaction.guild is not None
        channel = interaction.guild.get_channel_or_thread(sub.channel_id)
        return channel is None or member_can_post(channel, interaction.user)

    async def feed_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        choices: list[app_commands.Choice[str]] = []
        if not interaction.permissions.manage_guild:  # autocomplete skips interaction_check
            return choices
        for sub in await self._guild_subscriptions(interaction):
            if not self._postable_by(interaction, sub):
                continue  # /feed remove and post-latest would refuse it
            feed = sub.feed
            channel = self.bot.get_channel(sub.channel_id)
            label = f"{feed.name} → #{getattr(channel, 'name', sub.channel_id)}"
            if current.lower() in label.lower():
                choices.append(
                    app_commands.Choice(
                        name=outgoing.clip(label, outgoing.CHOICE_NAME_MAX), value=str(sub.id)
                    )
                )
        return choices[:25]

    async def _subscription(self, interaction: Interaction, value: str) -> Subscribed:
        subs = {str(s.id): s for s in await self._guild_subscriptions(interaction)}
        if value not in subs:
            raise UserFacingError("I don't know that feed here; pick one from the list.")
        sub = subs[value]
        if not self._postable_by(interaction, sub):
            raise UserFacingError(
                f"You can't post in <#{sub.channel_id}> yourself, so you can't manage its "
                "announcements."
            )
        return sub

    @app_commands.command(
        name="add", description="Announce a podcast feed's new episodes in a channel."
    )
    @app_commands.describe(
        url="The feed's address (RSS or Atom)",
        channel="Text, announcement or forum channel to post in",
        role="Role to mention with each new episode",
    )
    async def add(
        self,
        interaction: Interaction,
        url: str,
        channel: PostableChannel,
        role: discord.Role | None = None,
    ) -> None:
        assert interaction.guild is not None
        url = check_feed_url(url)
        check_can_post(channel)
        check_member_can_post(channel, interaction.user)
        if role is not None and (
            reason := why_not_mentioned(
                role, may_mention_everyone=interaction.permissions.mention_everyone
            )
        ):
            raise UserFacingError(reason)
        cap = self.bot.settings.announce.max_feeds_per_server
        if (held := await self.store.command_subscriptions(interaction.guild.id)) >= cap:
            raise feed_limit_error(held)  # before the fetch; counted again with the insert
        await interaction.response.defer(ephemeral=True, thinking=True)
        parsed = await self._probe(url)
        feed, created = await self.store.subscribe(
            url,
            guild_id=interaction.guild.id,
            channel_id=channel.id,
            mention_role_id=role.id if role else 0,
            cap=cap,
        )
        self.bot.announce_scheduler.wake()  # poll it now, not at the next due feed
        if not created:
            raise UserFacingError(f"{channel.mention} already gets **{shown_name(feed.name)}**.")
        backlog = self.bot.settings.announce.first_poll_backlog
        newest = "nothing old" if backlog == 0 else f"the newest {backlog} episode(s)"
        await interaction.followup.send(
            outgoing.content(
                f"Now announcing **{shown_name(parsed.title or redact_url(url))}** "
                f"({len(parsed.episodes)} episodes so far) in {channel.mention}. "
                f"I'll post {newest} now and every new one from here on."
            ),
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Stop announcing a feed in a channel.")
    @app_commands.describe(feed="The feed and channel to stop")
    @app_commands.autocomplete(feed=feed_autocomplete)
    async def remove(self, interaction: Interaction, feed: str) -> None:
        sub = await self._subscription(interaction, feed)
        if sub.from_config:
            raise UserFacingError(
                "That feed comes from config.toml; remove it there and restart me."
            )
        await self.store.unsubscribe(sub.id)
        self.bot.announce_scheduler.wake()  # its next poll is no longer the next thing due
        await interaction.response.send_message(
            f"Stopped announcing **{shown_name(sub.feed.name)}** in <#{sub.channel_id}>.",
            ephemeral=True,
        )

    @app_commands.command(name="list", description="The feeds announced in this server.")
    async def list(self, interaction: Interaction) -> None:
        lines = []
        for sub in await self._guild_subscriptions(interaction):
            feed = sub.feed
            extra = f", mentions <@&{sub.mention_role_id}>" if sub.mention_role_id else ""
            origin = " (config.toml)" if sub.from_config else ""
            lines.append(
                f"• **{shown_name(feed.name)}** → <#{sub.channel_id}>{extra}{origin}\n  <{redact_url(feed.url)}>"
            )
        text = "\n".join(lines) or "No feeds are announced here yet. Add one with `/feed add`."
        await interaction.response.send_message(outgoing.content(text), ephemeral=True)

    @app_commands.command(
        name="status", description="How each feed here is doing: last check, errors."
    )
    async def status(self, interaction: Interaction) -> None:
        embed = discord.Embed(title="Feed health", colour=discord.Colour.blurple())
        seen: set[int] = set()
        for sub in await self._guild_subscriptions(interaction):
            feed = sub.feed
            if feed.id in seen or len(embed.fields) >= 25:
                continue
            seen.add(feed.id)
            state = (
                "\N{WHITE HEAVY CHECK MARK} healthy"
                if feed.consecutive_failures == 0
                else (f"\N{WARNING SIGN} failing ({feed.consecutive_failures} in a row)")
            )
            value = (
                f"{state}\nLast success: {relative(feed.last_success_at)}\n"
                f"Next check: {relative(max(feed.next_poll_at, time.time()))}"
            )
            if feed.last_error:
                value += f"\nLast error: {feed.last_error}"
            if feed.fetch_url != feed.url:
                value += f"\nMoved to <{redact_url(feed.fetch_url)}>"
            embed.add_field(name=feed.name, value=value, inline=False)
        if not embed.fields:
            embed.description = "No feeds are announced here yet."
        await interaction.response.send_message(embed=outgoing.fit_embed(embed), ephemeral=True)

    @app_commands.command(
        name="preview", description="See how a feed's next post would look (only you)."
    )
    @app_commands.describe(url="The feed's address (RSS or Atom)")
    async def preview(self, interaction: Interaction, url: str) -> None:
        url = check_feed_url(url)
        await interaction.response.defer(ephemeral=True, thinking=True)
        parsed = await self._probe(url)
        if not parsed.episodes:
            raise UserFacingError("That feed has no episodes yet, so there is nothing to preview.")
        newest = max(parsed.episodes, key=lambda e: e.published.timestamp() if e.published else 0)
        stored = StoredEpisode(id=0, feed_id=0, episode=newest)
        name = parsed.title or redact_url(url)
        await interaction.followup.send(
            f"**{shown_name(name)}**: {len(parsed.episodes)} episodes. "
            "The newest would be posted like this:",
            embed=episode_embed(stored, name, parsed.image),
            view=episode_view(stored),
            ephemeral=True,
        )

    @app_commands.command(
        name="post-latest", description="Post a feed's newest episode again, now."
    )
    @app_commands.describe(feed="The feed and channel")
    @app_commands.autocomplete(feed=feed_autocomplete)
    async def post_latest(self, interaction: Interaction, feed: str) -> None:
        sub = await self._subscription(interaction, feed)
        now = time.monotonic()
        self._posted_latest = {
            k: t for k, t in self._posted_latest.items() if now - t < POST_LATEST_SECONDS
        }
        if (last := self._posted_latest.get(sub.id)) is not None:
            wait = POST_LATEST_SECONDS - (now - last)
            raise UserFacingError(
                f"I re-posted that feed in <#{sub.channel_id}> less than a minute ago: "
                f"try again in {max(wait, 1):.0f} s."
            )
        self._posted_latest[sub.id] = now  # before the await: a second one at once waits too
        stored = await self.store.owe_latest(sub.feed_id, [sub.channel_id])
        self.bot.announce_scheduler.wake()  # deliver it now
        if stored is None:
            self._posted_latest.pop(sub.id, None)  # nothing was posted
            raise UserFacingError(
                "I haven't read any episode of that feed yet; try again in a moment."
            )
        await interaction.response.send_message(
            f"Posting **{shown_name(stored.episode.title)}** in <#{sub.channel_id}>.",
            ephemeral=True,
        )


async def setup(bot: Narrator) -> None:
    await bot.add_cog(Feeds(bot))
