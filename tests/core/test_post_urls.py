"""`bot.post_urls`: one key per post, whatever URL form a member or a feed uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.errors import UserFacingError
from bot.post_urls import EA_HOSTS, LW_HOSTS, PostKey, PostUrlError, canonical_key, main

LW_ID = "Dw8mskAvBX37MxvXo"
EA_ID = "sxEcd6PAQkWiH7edd"
CID = "a1B2c3D4e5F6g7H8i"


def key(url: str) -> str:
    return canonical_key(url).key


# ---- the reference's test vectors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"https://www.lesswrong.com/posts/{LW_ID}/deep-learning-as-program-synthesis-1",
            f"lw:{LW_ID}",
        ),
        (f"https://lesswrong.com/posts/{LW_ID}", f"lw:{LW_ID}"),
        (
            "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"
            f"?commentId={CID}",
            "lw:Kv7DRtEaQYjfyZ8Ld",
        ),
        ("https://www.alignmentforum.org/posts/YAa4qcMyoucRS2Ykr/", "lw:YAa4qcMyoucRS2Ykr"),
        (
            f"https://forum.effectivealtruism.org/posts/{EA_ID}/two-podcast-opportunities",
            f"ea:{EA_ID}",
        ),
    ],
)
def test_reference_vectors(url: str, expected: str) -> None:
    assert key(url) == expected


def test_reference_legacy_lw1_link_needs_lookup() -> None:
    result = canonical_key("http://lesswrong.com/lw/899/great_explanations/")
    assert result.needs_lookup
    assert result.key == "lw-legacy:899"
    assert result.post_id is None
    assert result.site == "lw"
    assert result.note is not None and "old-style LessWrong link" in result.note


def test_reference_event_is_refused() -> None:
    with pytest.raises(PostUrlError, match="Events are not narrated"):
        canonical_key(f"https://www.lesswrong.com/events/{LW_ID}/a-meetup")


# ---- site families ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", sorted(LW_HOSTS))
@pytest.mark.parametrize("www", ["", "www."])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_lw_family_host_shares_the_lw_key(host: str, www: str, scheme: str) -> None:
    result = canonical_key(f"{scheme}://{www}{host}/posts/{LW_ID}/some-slug")
    assert result == PostKey(
        f"lw:{LW_ID}", f"https://www.lesswrong.com/posts/{LW_ID}/some-slug", "lw", LW_ID
    )


@pytest.mark.parametrize("host", sorted(EA_HOSTS))
@pytest.mark.parametrize("www", ["", "www."])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_ea_family_host_shares_the_ea_key(host: str, www: str, scheme: str) -> None:
    result = canonical_key(f"{scheme}://{www}{host}/posts/{EA_ID}/some-slug")
    assert result == PostKey(
        f"ea:{EA_ID}", f"https://forum.effectivealtruism.org/posts/{EA_ID}/some-slug", "ea", EA_ID
    )


def test_ea_greaterwrong_is_ea_although_greaterwrong_is_lw() -> None:
    assert key(f"https://ea.greaterwrong.com/posts/{LW_ID}/x") == f"ea:{LW_ID}"
    assert key(f"https://www.greaterwrong.com/posts/{LW_ID}/x") == f"lw:{LW_ID}"
    assert key(f"https://greaterwrong.com/posts/{LW_ID}/x") == f"lw:{LW_ID}"


def test_same_id_on_lw_and_ea_are_different_posts() -> None:
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}") != key(
        f"https://forum.effectivealtruism.org/posts/{LW_ID}"
    )


def test_host_is_case_insensitive_and_trailing_dot_ignored() -> None:
    assert key(f"HTTPS://WWW.LessWrong.COM./posts/{LW_ID}") == f"lw:{LW_ID}"


def test_port_does_not_change_a_forum_key() -> None:
    assert key(f"https://www.lesswrong.com:443/posts/{LW_ID}") == f"lw:{LW_ID}"
    assert key(f"http://lesswrong.com:80/posts/{LW_ID}") == f"lw:{LW_ID}"


def test_lookalike_hosts_are_not_forums() -> None:
    assert canonical_key(f"https://notlesswrong.com/posts/{LW_ID}").site == "web"
    assert canonical_key(f"https://lesswrong.com.evil.example/posts/{LW_ID}").site == "web"
    assert canonical_key(f"https://effectivealtruism.org/posts/{EA_ID}").site == "web"
    assert canonical_key(f"https://arbital.greaterwrong.com/posts/{LW_ID}").site == "web"


# ---- what does not change the key ------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix",
    [
        "",
        "/",
        "/slug",
        "/slug/",
        "/-",
        "/another-slug-2",
        "/slug#comments",
        "/slug#some-heading",
        f"/slug#{CID}",
        f"/slug#comment-{CID}",
        f"/slug?commentId={CID}",
        f"/slug/?commentId={CID}#{CID}",
        f"/slug/comment/{CID}",
        f"/slug/comment/{CID}/",
        f"/slug/answer/{CID}",
        f"/comment/{CID}",
        "/slug?utm_source=twitter&utm_medium=social",
        "/slug?view=postCommentsNew&format=html&from=feed",
        "//slug//",
    ],
)
def test_slugs_comments_fragments_and_params_keep_the_lw_key(suffix: str) -> None:
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}{suffix}") == f"lw:{LW_ID}"


def test_ids_are_case_sensitive() -> None:
    lower = "dw8mskavbx37mxvxo"
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}") == f"lw:{LW_ID}"
    assert key(f"https://www.lesswrong.com/posts/{lower}") == f"lw:{lower}"
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}") != key(
        f"https://www.lesswrong.com/posts/{LW_ID.swapcase()}"
    )


def test_path_keyword_case_does_not_matter_but_id_case_is_kept() -> None:
    assert key(f"https://www.lesswrong.com/Posts/{LW_ID}") == f"lw:{LW_ID}"


# ---- other paths that carry the id -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/s/NHXY86jBahi968uW4/p/{LW_ID}",
        f"/s/NHXY86jBahi968uW4/p/{LW_ID}/",
        f"/s/NHXY86jBahi968uW4/p/{LW_ID}?commentId={CID}",
        f"/g/someGroupId12345/p/{LW_ID}/",
        f"/g/someGroupId12345/p/{LW_ID}",
        f"/collaborateOnPost?postId={LW_ID}",
        f"/collaborateOnPost?postId={LW_ID}&key=abc",
        f"/editPost?postId={LW_ID}",
    ],
)
def test_sequence_group_and_collaborate_paths_carry_the_id(path: str) -> None:
    result = canonical_key(f"https://www.lesswrong.com{path}")
    assert result.key == f"lw:{LW_ID}"
    assert result.canonical_url == f"https://www.lesswrong.com/posts/{LW_ID}"
    assert not result.needs_lookup


def test_ea_sequence_path() -> None:
    assert key(f"https://forum.effectivealtruism.org/s/abc/p/{EA_ID}") == f"ea:{EA_ID}"


# ---- canonical URLs --------------------------------------------------------------------------


def test_lw_canonical_url_keeps_the_slug_and_drops_the_rest() -> None:
    result = canonical_key(
        f"http://alignmentforum.org/posts/{LW_ID}/my-slug/comment/{CID}?commentId={CID}#x"
    )
    assert result.canonical_url == f"https://www.lesswrong.com/posts/{LW_ID}/my-slug"


def test_greaterwrong_dash_slug_means_unknown() -> None:
    result = canonical_key(f"https://www.greaterwrong.com/posts/{LW_ID}/-")
    assert result.canonical_url == f"https://www.lesswrong.com/posts/{LW_ID}"


def test_ea_canonical_url() -> None:
    result = canonical_key(f"https://ea.greaterwrong.com/posts/{EA_ID}/two-podcast-opportunities/")
    assert result.canonical_url == (
        f"https://forum.effectivealtruism.org/posts/{EA_ID}/two-podcast-opportunities"
    )


# ---- events, sequences, other forum pages ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.lesswrong.com/events/{LW_ID}/meetup",
        f"https://www.lesswrong.com/events/{LW_ID}",
        f"https://forum.effectivealtruism.org/events/{EA_ID}/ea-global",
        f"https://www.greaterwrong.com/events/{LW_ID}/meetup",
    ],
)
def test_events_are_refused(url: str) -> None:
    with pytest.raises(PostUrlError, match="Events are not narrated"):
        canonical_key(url)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("https://www.lesswrong.com/", "not a link to a post"),
        ("https://www.lesswrong.com/users/someone", "not a link to a post"),
        ("https://www.lesswrong.com/s/NHXY86jBahi968uW4", "sequence"),
        ("https://www.lesswrong.com/posts/tooshort/slug", "valid post id"),
        ("https://www.lesswrong.com/posts/Dw8mskAvBX37MxvXoo/slug", "valid post id"),
        ("https://www.lesswrong.com/collaborateOnPost", "valid post id"),
        ("https://forum.effectivealtruism.org/allPosts", "not a link to a post"),
        ("https://agentfoundations.org/", "not a link to a post"),
    ],
)
def test_forum_pages_that_are_not_posts_are_refused(url: str, match: str) -> None:
    with pytest.raises(PostUrlError, match=match):
        canonical_key(url)


# ---- tags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected", "canonical"),
    [
        ("https://www.lesswrong.com/w/ai-timelines", "lw-tag:ai-timelines", "https://www.lesswrong.com/w/ai-timelines"),
        ("https://www.lesswrong.com/tag/ai-timelines/", "lw-tag:ai-timelines", "https://www.lesswrong.com/w/ai-timelines"),
        ("https://www.alignmentforum.org/tag/ai-timelines?sortedBy=new", "lw-tag:ai-timelines", "https://www.lesswrong.com/w/ai-timelines"),
        ("https://www.lesswrong.com/w/ai-timelines/discussion#x", "lw-tag:ai-timelines", "https://www.lesswrong.com/w/ai-timelines"),
        ("https://forum.effectivealtruism.org/topics/biosecurity", "ea-tag:biosecurity", "https://forum.effectivealtruism.org/topics/biosecurity"),
        ("https://forum.effectivealtruism.org/tag/biosecurity", "ea-tag:biosecurity", "https://forum.effectivealtruism.org/topics/biosecurity"),
    ],
)  # fmt: skip
def test_tags_and_wiki_pages(url: str, expected: str, canonical: str) -> None:
    result = canonical_key(url)
    assert (result.key, result.canonical_url, result.post_id, result.needs_lookup) == (
        expected,
        canonical,
        None,
        False,
    )


# ---- links that need a lookup ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected", "canonical"),
    [
        ("https://www.lesswrong.com/posts/slug/great-expl", "lw-slug:great-expl", "https://www.lesswrong.com/posts/slug/great-expl"),
        ("https://www.lesswrong.com/posts/slug/great-expl/?commentId=x", "lw-slug:great-expl", "https://www.lesswrong.com/posts/slug/great-expl"),
        ("https://www.lesswrong.com/hpmor/chapter-1", "lw-slug:chapter-1", "https://www.lesswrong.com/hpmor/chapter-1"),
        ("https://www.lesswrong.com/codex/ey-facts", "lw-slug:ey-facts", "https://www.lesswrong.com/codex/ey-facts"),
        ("https://www.lesswrong.com/rationality/the-simple-truth", "lw-slug:the-simple-truth", "https://www.lesswrong.com/rationality/the-simple-truth"),
        ("https://www.lesswrong.com/highlights/the-lens", "lw-slug:the-lens", "https://www.lesswrong.com/highlights/the-lens"),
        ("http://lesswrong.com/lw/899/great_explanations/", "lw-legacy:899", "https://www.lesswrong.com/lw/899/great_explanations"),
        ("http://lesswrong.com/lw/899/", "lw-legacy:899", "https://www.lesswrong.com/lw/899"),
        ("http://lesswrong.com/lw/899/great_explanations/5x3k", "lw-legacy:899", "https://www.lesswrong.com/lw/899/great_explanations"),
        ("http://lesswrong.com/r/discussion/lw/899/great_explanations/", "lw-legacy:899", "https://www.lesswrong.com/lw/899/great_explanations"),
        ("http://lesswrong.com/r/lesswrong/lw/899/great_explanations", "lw-legacy:899", "https://www.lesswrong.com/lw/899/great_explanations"),
        ("http://www.lesswrong.com/r/all/lw/899/great_explanations", "lw-legacy:899", "https://www.lesswrong.com/lw/899/great_explanations"),
        ("http://lesswrong.com/LW/8A9/x", "lw-legacy:8a9", "https://www.lesswrong.com/lw/8a9/x"),
        ("http://effective-altruism.com/ea/1a2/some_post/", "ea-legacy:1a2", "https://forum.effectivealtruism.org/ea/1a2/some_post"),
        ("https://forum.effectivealtruism.org/ea/1a2/some_post", "ea-legacy:1a2", "https://forum.effectivealtruism.org/ea/1a2/some_post"),
        ("https://forum.effectivealtruism.org/posts/slug/some-post", "ea-slug:some-post", "https://forum.effectivealtruism.org/posts/slug/some-post"),
        ("https://agentfoundations.org/item?id=1042", "af-item:1042", "https://agentfoundations.org/item?id=1042"),
        ("https://www.agentfoundations.org/item/?id=0042#x", "af-item:42", "https://agentfoundations.org/item?id=42"),
    ],
)  # fmt: skip
def test_slug_only_and_legacy_links_need_lookup(url: str, expected: str, canonical: str) -> None:
    result = canonical_key(url)
    assert result.needs_lookup
    assert result.post_id is None
    assert result.note
    assert (result.key, result.canonical_url) == (expected, canonical)


def test_lw1_prefix_only_from_known_subreddits() -> None:
    with pytest.raises(PostUrlError):
        canonical_key("http://lesswrong.com/r/other/lw/899/x")


def test_lw1_path_on_ea_is_not_a_post() -> None:
    with pytest.raises(PostUrlError):
        canonical_key("https://forum.effectivealtruism.org/lw/899/x")


# ---- other sites -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/Some/Path", "https://example.com/Some/Path"),
        ("https://www.example.com/a/", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("HTTP://example.com/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y&UTM_Campaign=z", "https://example.com/a"),
        (
            "https://example.com/a?fbclid=1&gclid=2&ref=hn&mc_cid=3&mc_eid=4",
            "https://example.com/a",
        ),
        ("https://example.com/a?b=2&a=1&utm_source=x", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?q=hello%20world", "https://example.com/a?q=hello%20world"),
        ("https://example.com/a?t=2&s=1&t=1", "https://example.com/a?s=1&t=2&t=1"),
        ("https://example.com/a?flag&b=1", "https://example.com/a?b=1&flag"),
        ("https://example.com/a?q=%7euser", "https://example.com/a?q=~user"),
        ("https://example.com/%7Euser/%2fx", "https://example.com/~user/%2Fx"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://bücher.example/", "https://xn--bcher-kva.example"),
        ("https://arxiv.org/abs/2312.09390v2", "https://arxiv.org/abs/2312.09390v2"),
        (
            "https://medium.com/@someone/A-Title-abc123",
            "https://medium.com/@someone/A-Title-abc123",
        ),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("http://[::1]/x", "http://[::1]/x"),
        ("<https://example.com/a>", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("example.com/a", "https://example.com/a"),
    ],
)
def test_other_sites_are_normalised(url: str, expected: str) -> None:
    result = canonical_key(url)
    assert result == PostKey(expected, expected, "web")


def test_other_site_path_case_matters() -> None:
    assert key("https://example.com/Post") != key("https://example.com/post")


def test_bare_forum_address_is_accepted() -> None:
    assert key(f"www.lesswrong.com/posts/{LW_ID}") == f"lw:{LW_ID}"


# ---- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://example.com/file", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("data:text/html,hi", "Only http and https"),
        ("mailto:a@example.com", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("https://user:pass@example.com/", "user name or password"),
        ("https://user@example.com/", "user name or password"),
        (f"https://user:pass@www.lesswrong.com/posts/{LW_ID}", "user name or password"),
        ("", "Please give a link"),
        ("   ", "Please give a link"),
        ("https://", "no site name"),
        ("https:///posts/x", "no site name"),
        ("http://:80/x", "no site name"),
        ("/posts/Dw8mskAvBX37MxvXo", "Only http and https"),
        ("not a url", "single web link"),
        ("https://example.com/a b", "single web link"),
        ("https://example.com/a\nhttps://example.com/b", "single web link"),
        ("https://exa\tmple.com/", "single web link"),
        ("https://example.com/\x00", "single web link"),
        ('https://example.com/"onmouseover', "single web link"),
        ("https://example.com\\@evil.example/", "single web link"),
        ("https://example.com:99999/", "port number"),
        ("https://example.com:abc/", "port number"),
        ("https://exa_mple!.com/", "site name"),
    ],
)
def test_refusals(url: str, match: str) -> None:
    with pytest.raises(PostUrlError, match=match):
        canonical_key(url)


def test_length_limit_is_2048_characters() -> None:
    base = "https://example.com/"
    ok = base + "a" * (2048 - len(base))
    too_long = ok + "a"
    assert len(ok) == 2048 and len(too_long) == 2049
    assert canonical_key(ok).site == "web"
    with pytest.raises(PostUrlError, match="longer than 2,048 characters"):
        canonical_key(too_long)


def test_error_is_a_user_facing_value_error_with_one_sentence() -> None:
    with pytest.raises(PostUrlError) as info:
        canonical_key("ftp://example.com")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, UserFacingError)
    message = str(info.value)
    assert message == info.value.message
    assert message.endswith(".") and message.count(". ") == 0 and "\n" not in message


def test_post_key_is_frozen_and_hashable() -> None:
    result = canonical_key(f"https://www.lesswrong.com/posts/{LW_ID}")
    assert hash(result) == hash(canonical_key(f"https://lesswrong.com/posts/{LW_ID}/"))
    with pytest.raises(AttributeError):
        result.key = "x"  # type: ignore[misc]


# ---- the client-code pitfalls from the reference ---------------------------------------------


def test_slugless_url_without_trailing_slash_is_found() -> None:
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}") == f"lw:{LW_ID}"


def test_colliding_slugs_on_different_ids_are_different_keys() -> None:
    assert key(f"https://www.lesswrong.com/posts/{LW_ID}/same-slug") != key(
        "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/same-slug"
    )


# ---- command line ----------------------------------------------------------------------------


def test_cli_prints_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([f"https://www.lesswrong.com/posts/{LW_ID}/slug?commentId=x"]) == 0
    out, err = capsys.readouterr()
    assert out == f"lw:{LW_ID}\n"
    assert err == ""


def test_cli_puts_the_note_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://lesswrong.com/lw/899/great_explanations/"]) == 0
    out, err = capsys.readouterr()
    assert out == "lw-legacy:899\n"
    assert "old-style LessWrong link" in err


def test_cli_refusal_exits_2_with_the_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["https://www.lesswrong.com/events/x/y"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Events are not narrated" in err


@pytest.mark.parametrize("argv", [[], ["a", "b"]])
def test_cli_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err


def test_cli_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "usage" in capsys.readouterr().out


def test_python_dash_m_bot_post_key_is_wired() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "post-key", f"https://greaterwrong.com/posts/{LW_ID}/-"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"lw:{LW_ID}\n")
