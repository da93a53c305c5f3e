"""The voice player's pure core: ffmpeg arguments, position clock, queue, time codes, chapters, storage."""
