"""Voice for the Discord emulator: a TLS voice gateway v8, UDP RTP receive/decrypt/decode, faults.

Enable it with `await emu.enable_voice(cert_dir)`; then `emu.voice` is a `VoiceServer` and
`emu.voice.receiver(guild_id)` records what the bot played. See `VoiceServer` for the faults.
"""

from .receiver import RtpPacket, SpeakingEvent, VoiceEvent, VoiceReceiver
from .server import VoiceConnection, VoiceServer, VoiceSession
from .tls import TestTLS
from .tones import make_tone, make_tones

__all__ = [
    "RtpPacket",
    "SpeakingEvent",
    "TestTLS",
    "VoiceConnection",
    "VoiceEvent",
    "VoiceReceiver",
    "VoiceServer",
    "VoiceSession",
    "make_tone",
    "make_tones",
]
