"""Metrics are counted without prometheus_client and rendered with it when /metrics is asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bot import metrics
from driver.harness import samples


def test_counts_and_live_values_render_as_prometheus_text() -> None:
    before = samples(metrics.render().decode())
    metrics.POLLS.labels(result="ok").inc()
    metrics.POLLS.labels(result="ok").inc()
    metrics.POSTS.labels(kind="digest").inc()
    metrics.STREAM_STARTS.inc()
    metrics.GUILDS.set_function(lambda: 7)
    metrics.LATENCY.labels(shard="0").set(0.25)
    after = samples(metrics.render().decode())

    def grew(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("narrator_polls_total", (("result", "ok"),)) == 2
    assert grew("narrator_posts_total", (("kind", "digest"),)) == 1
    assert grew("narrator_stream_starts_total") == 1
    assert after[("narrator_guilds", ())] == 7
    assert after[("narrator_gateway_latency_seconds", (("shard", "0"),))] == 0.25
    # a counter never incremented is still there, at zero
    assert (
        after[("narrator_request_votes_total", ())] == before[("narrator_request_votes_total", ())]
    )
    assert metrics.CONTENT_TYPE_LATEST.startswith("text/plain")


def test_counting_does_not_load_prometheus_client() -> None:
    code = textwrap.dedent(
        """
        import sys
        from bot import metrics
        metrics.POLLS.labels(result="ok").inc()
        metrics.STREAM_STARTS.inc()
        assert "prometheus_client" not in sys.modules, "imported before /metrics was asked"
        metrics.render()
        assert "prometheus_client" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_wrong_label_is_refused() -> None:
    with pytest.raises(ValueError, match="narrator_polls"):
        metrics.POLLS.labels(kind="ok")
