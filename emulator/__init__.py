"""A faithful, in-memory Discord (REST + gateway) for running the unmodified bot offline."""

from .command_permissions import CommandOverwrite
from .faults import FaultInjector
from .interactions import Interaction, InteractionRefused
from .mentions import Pings
from .models import ChannelType
from .permissions import Permissions
from .server import DiscordEmulator, VoiceJoin
from .state import RecordedRequest

__all__ = [
    "ChannelType",
    "CommandOverwrite",
    "DiscordEmulator",
    "FaultInjector",
    "Interaction",
    "InteractionRefused",
    "Permissions",
    "Pings",
    "RecordedRequest",
    "VoiceJoin",
]
