"""Development: `make run` on a laptop. Debug stays opt-in (MOTCUA_DEBUG=1)."""

from motcua.settings.base import *  # noqa: F403
