"""A faithful, in-memory Discord (REST + gateway) for running the unmodified bot offline."""

from .faults import FaultInjector
from .interactions import Interaction
from .mentions import Pings
from .models import ChannelType
from .permissions import Permissions
from .server import DiscordEmulator, VoiceJoin
from .state import RecordedRequest

__all__ = [
    "ChannelType",
    "DiscordEmulator",
    "FaultInjector",
    "Interaction",
    "Permissions",
    "Pings",
    "RecordedRequest",
    "VoiceJoin",
]
