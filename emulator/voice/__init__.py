"""Voice for the Discord emulator: a TLS voice gateway v8, UDP RTP receive/decrypt/decode, faults,
and DAVE end-to-end encryption (on by default, as on Discord).

Enable it with `await emu.enable_voice(cert_dir)`; then `emu.voice` is a `VoiceServer` and
`emu.voice.receiver(guild_id)` records what the bot played. See `VoiceServer` for the faults.
Humans in a voice channel are DAVE listeners (davey sessions, `listener.py`) in the channel's
group (`emu.voice.dave(channel_id)`, `dave.py`); the server's MLS side is `mls.py`. Each received
packet says whether it came end-to-end encrypted (`RtpPacket.e2ee`, `VoiceReceiver.e2ee_fraction`).
"""

from .dave import DaveGroup
from .listener import Listener
from .receiver import RtpPacket, SpeakingEvent, VoiceEvent, VoiceReceiver
from .server import VoiceConnection, VoiceServer, VoiceSession
from .tls import TestTLS
from .tones import make_tone, make_tones

__all__ = [
    "DaveGroup",
    "Listener",
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
