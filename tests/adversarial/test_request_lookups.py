"""/request with a slug-only link costs a forum lookup: a member who may not make another request
gets none (their refusals must not become requests to the forum), while a link the bot already
resolved still counts as their vote."""

from __future__ import annotations

from driver.narrating import ForumStandIn
from driver.requesting import POST_ID, Type3StandIn, answer, config, request
from driver.world import World

SLUG_URL = "https://www.lesswrong.com/posts/slug/a-post-linked-by-its-slug"


async def test_a_member_at_their_limit_gets_no_forum_lookup(
    emu, world: World, start_bot, type3: Type3StandIn, review: int, forum: ForumStandIn
) -> None:
    forum.slugs["a-post-linked-by-its-slug"] = POST_ID
    await start_bot(config(type3, review, lesswrong_graphql=f"{forum.base}/graphql"))
    for n in range(3):  # per_member_per_hour = 3, with links that need no lookup
        url = f"https://www.lesswrong.com/posts/Limit{n:012d}/post-{n}"
        assert (
            "Requested!"
            in (await answer(await request(emu, world, world.member_id, url)))["content"]
        )

    refused = await answer(await request(emu, world, world.member_id, SLUG_URL))
    assert "3 requests in the last hour, the most allowed" in refused["content"]
    assert forum.queries == [], "no lookup for a member who may not request"

    made = await answer(await request(emu, world, world.admin_id, SLUG_URL))
    assert "Requested!" in made["content"]
    assert f"lw:{POST_ID}" in made["embeds"][0]["footer"]["text"]
    assert len(forum.queries) == 1

    again = await answer(await request(emu, world, world.member_id, SLUG_URL))
    assert "Added your vote" in again["content"] and "2 votes" in again["content"]
    twice = await answer(await request(emu, world, world.admin_id, SLUG_URL))
    assert "You already asked for this one" in twice["content"]
    assert len(forum.queries) == 1, "the resolved link is remembered"
