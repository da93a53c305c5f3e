"""Requests' orchestration: create, vote, review, fulfil, notify and forward to the webhook.

The cogs and the request buttons call this through `bot.requests`; the rules live in
`policy.py`, the rows in `store.py`, the cards in `render.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import metrics, outgoing
from bot.announce.render import episode_embed, episode_view, nonce_for
from bot.announce.scope import guild_episodes
from bot.announce.store import AnnounceStore, StoredEpisode
from bot.backoff import Backoff
from bot.db import IntegrityError
from bot.errors import UserFacingError
from bot.post_urls import PostKey, canonical_key
from bot.requesting import policy
from bot.requesting.buttons import RejectModal
from bot.requesting.recovery import RequestRecoveryStore, read_review_channel
from bot.requesting.render import (
    link_label,
    notice_text,
    request_embed,
    request_view,
    review_view,
)
from bot.requesting.store import Limits, Notice, RequestRow, RequestStore
from bot.safe_fetch import fetch_title, safe_session
from bot.type3_api import Narration, find_narration

if TYPE_CHECKING:
    from bot.bot import Narrator

    Interaction = discord.Interaction[Narrator]

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 3.0  # TYPE III and forum lookups never hold a request up for longer
TITLE_TIMEOUT = 5.0
RECOVERY_TIMEOUT = 30.0  # reading the review channel back never holds start-up up for longer
LOOK_GAP = 2.0
"""The notifier looks at most this often, however often it is woken (a burst of new episodes)."""
QUIET_LOOK = 60.0
"""And at least this often: a request closed by an episode no wake-up was sent for."""
NOTICE_RETRY = Backoff(first=2.0, cap=300.0)  # a notice Discord refused for now
DISCORD_WEBHOOK = re.compile(r"discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w.-]{60,}")


class RequestService:
    """Owned by the Bot (`bot.requests`): opened in setup_hook, closed with the bot."""

    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = RequestStore(bot.db)
        self.recovery = RequestRecoveryStore(bot.db)
        self.episodes = AnnounceStore(bot.db)
        self.settings = bot.settings.requests
        self._titles: aiohttp.ClientSession | None = None
        self._wake = asyncio.Event()
        self._wake.set()  # look once at start: episodes and notices from before it
        self._last_look = -LOOK_GAP
        self._notice_failures = 0

    async def open(self) -> None:
        self._titles = safe_session(allow_private=self.settings.allow_private_addresses)
        # Before the gateway connects, so no new request can take a number a card still holds;
        # one process of a cluster at a time, so the others find the requests already back.
        async with self.bot.db.exclusive("request-recovery"):
            await self._recover()

    async def close(self) -> None:
        if self._titles is not None:
            await self._titles.close()
            self._titles = None

    # -- /request ----------------------------------------------------------------------------------

    async def request(self, interaction: Interaction, url: str, note: str | None) -> None:
        """Ask for a post: answered as already narrated, as a vote, or as a new request."""
        assert interaction.guild is not None
        key = canonical_key(url)
        policy.check_site(
            key.canonical_url,
            allowed=self.settings.allowed_domains,
            denied=self.settings.denied_domains,
        )
        policy.check_key(key.key)
        # Everything after this reads the database or the network: answer Discord's 3 s deadline
        # first, even when the bot is busy (right after a restart, say).
        await interaction.response.defer(thinking=True)
        if key.needs_lookup:  # a link already resolved still counts as a vote past the limit
            member_id = interaction.user.id
            key = await self.bot.forum_lookup.resolve(
                key, before_asking=lambda: self._check_limits(member_id)
            )
        episodes = await guild_episodes(interaction, self.episodes)
        if narrated := await episodes.by_source_key(key.key):
            await self._answer_narrated(interaction, narrated[0])
            return
        existing = await self.store.by_key(interaction.guild.id, key.key)
        if existing is not None:
            await self._repeat(interaction, existing)
            return
        await self._check_limits(interaction.user.id)
        narration, title = await asyncio.gather(self._type3(key), self._title(key))
        if narration is not None:
            title = link_label(narration.title or "", 200) or "their narration"
            audio = outgoing.link_target(narration.mp3_url, 1000)
            await interaction.followup.send(
                "TYPE III AUDIO has already narrated this: "
                + (f"[{title}](<{audio}>)" if audio else f"**{title}**")
                + ". It will be announced here when its feed carries it.",
            )
            return
        try:
            created = await self.store.create(
                guild_id=interaction.guild.id,
                channel_id=interaction.channel_id or 0,
                post_key=key.key,
                url=key.canonical_url,
                title=title,
                note=note,
                requester_id=interaction.user.id,
                # counted again with the insert, atomically: concurrent requests take turns
                limits=Limits(self.settings.per_member_per_hour, self.settings.max_open_per_member),
            )
        except IntegrityError:  # the same post, asked for here a moment ago: a vote instead
            existing = await self.store.by_key(interaction.guild.id, key.key)
            if existing is None:
                raise
            await self._repeat(interaction, existing)
            return
        hint = f"\n-# {key.note}" if key.note else ""
        message = await self._public_card(interaction, created, hint)
        metrics.REQUESTS_CREATED.inc()
        if message is not None:
            await self.store.set_messages(created.id, public=message.id)
            created = await self.store.get(created.id) or created
        # Stored by now: the reviewers hear of it whether or not Discord showed the card here.
        await self._send_for_review(created)
        await self._forward(created)
        if message is None:
            raise UserFacingError(
                f"Your request (#{created.id}) is recorded and sent for review, but Discord "
                "failed to show it here; /requests mine lists it."
            )

    async def _public_card(
        self, interaction: Interaction, created: RequestRow, hint: str
    ) -> discord.WebhookMessage | None:
        """The request's card with its vote button, as the answer; None if Discord failed."""
        try:
            return await interaction.followup.send(
                f"Requested! Others can add their vote with the button.{hint}",
                embed=await self._embed(created),
                view=request_view(created),
                wait=True,
            )
        except outgoing.REQUEST_FAILURES as exc:
            log.warning("Could not show request #%s's card: %s", created.id, exc)
        except (KeyError, TypeError, ValueError) as exc:  # a 2xx whose body discord.py can't read
            log.warning(
                "Discord's answer to request #%s's card was unreadable: %r", created.id, exc
            )
        return None

    async def _check_limits(self, member_id: int) -> None:
        policy.check_limits(
            recent=await self.store.recent_count(
                member_id, discord.utils.utcnow().timestamp() - 3600
            ),
            per_hour=self.settings.per_member_per_hour,
            open_now=await self.store.open_count(member_id),
            max_open=self.settings.max_open_per_member,
        )

    async def _type3(self, key: PostKey) -> Narration | None:
        if not self.settings.type3_lookup:
            return None
        return await find_narration(
            self.bot.session,
            key.canonical_url,
            base_url=self.settings.type3_api_base,
            timeout=LOOKUP_TIMEOUT,
        )

    async def _title(self, key: PostKey) -> str | None:
        if not self.settings.fetch_titles or self._titles is None:
            return None
        try:
            return await fetch_title(self._titles, key.canonical_url, timeout=TITLE_TIMEOUT)
        except UserFacingError as exc:  # refused for safety: record the request without a title
            log.info("Not fetching the title of %s: %s", key.canonical_url, exc)
            return None

    async def _answer_narrated(self, interaction: Interaction, stored: StoredEpisode) -> None:
        text = "This post is already narrated:"
        embed = episode_embed(stored, stored.feed_name, stored.feed_image)
        if interaction.response.is_done():
            await interaction.followup.send(text, embed=embed, view=episode_view(stored))
        else:
            await interaction.response.send_message(text, embed=embed, view=episode_view(stored))

    async def _repeat(self, interaction: Interaction, existing: RequestRow) -> None:
        if existing.status == "rejected":
            reason = f" ({outgoing.clip(existing.reason, 500)})" if existing.reason else ""
            raise UserFacingError(f"That post was requested before and not accepted{reason}.")
        if existing.status == "narrated":
            raise UserFacingError("That post was requested before and has been marked as narrated.")
        if await self.store.has_voted(existing.id, interaction.user.id):
            text = f"You already asked for this one; it has {existing.votes} vote(s)."
        elif await self.store.vote(existing.id, interaction.user.id):
            metrics.REQUEST_VOTES.inc()
            existing = await self.store.get(existing.id) or existing
            await self._refresh(existing)
            label = outgoing.escape(outgoing.clip(existing.label, 200))
            text = f"Added your vote: **{label}** now has {existing.votes} votes."
        else:
            text = "Your vote was already counted."
        await self._reply(interaction, text)

    async def _reply(self, interaction: Interaction, text: str) -> None:
        text = outgoing.content(text)
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    # -- buttons ---------------------------------------------------------------------------------

    async def vote(self, interaction: Interaction, request_id: int) -> None:
        await interaction.response.defer()  # acknowledge within 3 s; the card is edited below
        request = await self.store.get(request_id)
        if request is None or request.guild_id != interaction.guild_id:  # another server's
            raise UserFacingError("That request no longer exists.")
        if request.status not in ("open", "approved"):
            raise UserFacingError(f"That request is closed ({request.status}).")
        if not await self.store.vote(request.id, interaction.user.id):
            raise UserFacingError(f"You've already voted for this; it has {request.votes} vote(s).")
        metrics.REQUEST_VOTES.inc()
        request = await self.store.get(request.id) or request
        await interaction.edit_original_response(
            embed=await self._embed(request), view=request_view(request)
        )
        await self._refresh(request, skip_public=True)

    def _may_review(self, interaction: Interaction) -> bool:
        member = interaction.user
        if not isinstance(member, discord.Member):
            return False
        role = self.settings.reviewer_role_id
        return member.guild_permissions.manage_guild or any(r.id == role for r in member.roles)

    async def _check_review(self, interaction: Interaction, request_id: int) -> None:
        """Decisions are made on the review cards, in the review channel, by its reviewers."""
        review_id = self.settings.review_channel_id
        if not review_id or interaction.channel_id != review_id:
            raise UserFacingError(
                f"Requests are reviewed in <#{review_id}>."
                if review_id
                else "Requests aren't reviewed here."
            )
        if not self._may_review(interaction):
            raise UserFacingError(
                "Only reviewers (the reviewer role or Manage Server) can do that."
            )
        if await self.store.get(request_id) is None:
            raise UserFacingError("That request no longer exists.")

    async def review(self, interaction: Interaction, request_id: int, action: str) -> None:
        await self._check_review(interaction, request_id)
        if action == "reject":
            await interaction.response.send_modal(RejectModal(request_id))
            return
        status = "approved" if action == "approve" else "narrated"
        decided = await self.store.decide(request_id, status, by=interaction.user.id)
        await self._after_decision(interaction, request_id, decided)

    async def reject(self, interaction: Interaction, request_id: int, reason: str) -> None:
        await self._check_review(interaction, request_id)
        decided = await self.store.decide(
            request_id, "rejected", by=interaction.user.id, reason=reason
        )
        await self._after_decision(interaction, request_id, decided)

    async def _after_decision(
        self, interaction: Interaction, request_id: int, decided: RequestRow | None
    ) -> None:
        if decided is None:
            current = await self.store.get(request_id)
            state = current.status if current else "gone"
            raise UserFacingError(f"That request was already handled ({state}).")
        metrics.REQUESTS_DECIDED.labels(status=decided.status).inc()
        await interaction.response.send_message(
            f"Request #{decided.id} is now {decided.status}; the requester will be told.",
            ephemeral=True,
        )
        await self._refresh(decided)
        await self._send_notices()
        self.wake()  # an approved request may already have its episode

    # -- keeping messages and people up to date ------------------------------------------------

    async def _embed(self, request: RequestRow) -> discord.Embed:
        """The card, naming the voters: what lets requests be rebuilt from the review channel."""
        return request_embed(request, await self.recovery.voters(request.id))

    async def _recover(self) -> None:
        """With no requests stored (a lost database), rebuild them from the review channel."""
        review_id = self.settings.review_channel_id
        me = self.bot.user
        if not review_id or me is None or not await self.recovery.is_empty():
            return
        try:
            async with asyncio.timeout(RECOVERY_TIMEOUT):
                channel = self.bot.get_channel(review_id) or await self.bot.fetch_channel(review_id)
                if not isinstance(channel, discord.TextChannel | discord.Thread):
                    return
                cards = await read_review_channel(channel, me.id)
        except outgoing.REQUEST_FAILURES as exc:
            log.warning("Could not read back the review channel %s: %s", review_id, exc)
            return
        if not cards:
            return
        rebuilt = await self.recovery.rebuild(cards)
        log.info(
            "Recovered %d requests (%d open) with %d votes from Discord history"
            " (review channel %s)",
            rebuilt.requests,
            rebuilt.open,
            rebuilt.votes,
            review_id,
        )

    async def _refresh(self, request: RequestRow, *, skip_public: bool = False) -> None:
        """Bring the public card and the review card in line with the stored request."""
        targets = []
        if request.public_message_id and not skip_public:
            targets.append((request.channel_id, request.public_message_id, request_view(request)))
        if request.review_message_id and self.settings.review_channel_id:
            targets.append(
                (self.settings.review_channel_id, request.review_message_id, review_view(request))
            )
        embed = await self._embed(request)
        for channel_id, message_id, view in targets:
            channel = self.bot.get_channel(channel_id)
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                continue
            try:
                await channel.get_partial_message(message_id).edit(embed=embed, view=view)
            except outgoing.REQUEST_FAILURES as exc:
                log.warning(
                    "Could not update request #%s's message %s: %s", request.id, message_id, exc
                )

    async def _send_for_review(self, request: RequestRow) -> None:
        channel = (
            self.bot.get_channel(self.settings.review_channel_id)
            if self.settings.review_channel_id
            else None
        )
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return
        try:
            message = await channel.send(
                embed=await self._embed(request),
                view=review_view(request),
                nonce=nonce_for(channel.id, f"review:{request.id}"),
            )
        except outgoing.REQUEST_FAILURES as exc:
            log.warning("Could not post request #%s for review: %s", request.id, exc)
            return
        await self.store.set_messages(request.id, review=message.id)
        current = await self.store.get(request.id)
        if current is not None and (current.votes, current.status) != (
            request.votes,
            request.status,
        ):  # a vote or a decision came in while the card was on its way: the card must say it
            await self._refresh(current, skip_public=True)

    async def _forward(self, request: RequestRow) -> None:
        url = self.settings.webhook_url
        if not url:
            return
        try:
            if DISCORD_WEBHOOK.search(url):
                webhook = discord.Webhook.from_url(url, session=self.bot.session)
                await webhook.send(
                    embed=request_embed(request),
                    username="Narrator requests",
                    wait=True,
                    # a webhook made from a URL has no client default: say it here
                    allowed_mentions=outgoing.mentions(),
                )
            else:
                payload = {
                    "id": request.id,
                    "url": request.url,
                    "key": request.post_key,
                    "title": request.title,
                    "note": request.note,
                    "votes": request.votes,
                }
                async with self.bot.session.post(
                    url, json=payload, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    response.raise_for_status()
        except outgoing.REQUEST_FAILURES as exc:
            # The webhook's URL is a secret (its token), and aiohttp's errors quote it in full.
            status = getattr(exc, "status", None)
            log.warning(
                "Forwarding request #%s to the webhook failed: %s",
                request.id,
                f"HTTP {status}" if status else type(exc).__name__,
            )

    # -- the notifier (cogs/requests.py runs it) ----------------------------------------------------

    def wake(self) -> None:
        """Episodes were stored here, or another process said some are owed in this process's
        servers, or a decision was made: a request may be narrated now, or a notice owed."""
        self._wake.set()

    async def until_woken(self) -> None:
        """Until the notifier should look again: woken (but not sooner than LOOK_GAP after its
        last look, so a burst of wake-ups is one look), a failed notice's retry, or QUIET_LOOK.
        Idle, it costs no query: several processes cost no more than one."""
        timeout = QUIET_LOOK
        if self._notice_failures:
            timeout = min(timeout, NOTICE_RETRY.delay(self._notice_failures))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        gap = self._last_look + LOOK_GAP - time.monotonic()
        if gap > 0:
            await asyncio.sleep(gap)
        self._wake.clear()
        self._last_look = time.monotonic()

    async def fulfil(self) -> None:
        """Mark requests narrated once their episode is in a feed, then tell everyone owed a notice."""
        for request_id in await self.store.fulfil_from_episodes(self.bot.node.owns_guild):
            request = await self.store.get(request_id)
            if request is not None:
                log.info("Request #%s (%s) is narrated", request.id, request.post_key)
                await self._refresh(request)
        await self._send_notices()

    async def _send_notices(self) -> None:
        node = self.bot.node
        failed = False
        for notice in await self.store.unsent_notices():
            if not node.owns_guild(notice.request.guild_id):
                continue  # the process that runs the request's server tells its members
            # Once, whatever else runs: claimed, and the claim left to run out after the send,
            # so a process that read the list before it was marked sent cannot send it again.
            name = f"notice:{notice.request.id}:{notice.user_id}:{notice.kind}"
            async with node.claim(name, release=False) as mine:
                if mine and await self._deliver_notice(notice):
                    await self.store.notice_sent(notice)
                else:
                    failed = True  # Discord refused it for now, or another process holds it
        self._notice_failures = self._notice_failures + 1 if failed else 0

    async def _deliver_notice(self, notice: Notice) -> bool:
        """A DM first; when DMs are closed, a mention in the channel the request came from."""
        request = notice.request
        if notice.user_id <= 0:
            return (
                True  # a vote rebuilt without a name (bot/requesting/recovery.py): no one to tell
            )
        text = notice_text(request, notice.kind)
        embed: discord.Embed | None = None
        view: discord.ui.View | None = None
        if notice.kind == "narrated" and request.episode_id:
            stored = await self.episodes.episode(request.episode_id)
            if stored is not None:
                embed = episode_embed(stored, stored.feed_name, stored.feed_image)
                view = episode_view(stored)
        extra = {"embed": embed} if embed else {}
        if view is not None:
            extra["view"] = view  # type: ignore[assignment]
        nonce_key = f"notice:{request.id}:{notice.user_id}:{notice.kind}"
        try:
            user = self.bot.get_user(notice.user_id) or await self.bot.fetch_user(notice.user_id)
            dm = user.dm_channel or await user.create_dm()
            await dm.send(
                text,
                nonce=nonce_for(dm.id, nonce_key),
                allowed_mentions=outgoing.mentions(),
                **extra,  # type: ignore[arg-type]
            )
            return True
        except discord.Forbidden:
            pass  # DMs closed: fall back to the request's channel
        except outgoing.REQUEST_FAILURES as exc:
            log.warning("Could not DM %s about request #%s: %s", notice.user_id, request.id, exc)
            return False
        channel = self.bot.get_channel(request.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            log.warning(
                "Cannot tell %s about request #%s: no DM and no channel", notice.user_id, request.id
            )
            return True  # nowhere to say it; don't retry forever
        try:
            await channel.send(
                f"<@{notice.user_id}> {text}",
                allowed_mentions=outgoing.mentions(user_id=notice.user_id),
                nonce=nonce_for(channel.id, nonce_key),
                **extra,  # type: ignore[arg-type]
            )
            return True
        except outgoing.REQUEST_FAILURES as exc:
            log.warning(
                "Could not tell %s about request #%s in the channel: %s",
                notice.user_id,
                request.id,
                exc,
            )
            return False
