"""What tests and benchmarks drive the bot with: the bot as a process, a feed server, an audio
host, the hostile-feed mutations, the soak run, and the waits and slash commands a test repeats.

The Discord side is `emulator`; this package is the rest of the world around the bot.
"""
