"""Development: `make run` on a laptop. Debug stays opt-in (MOTCUA_DEBUG=1)."""

import os

from motcua.settings.base import *  # noqa: F403

# The demo's partner portal receives its webhooks on this machine (MOTCUA_WEBHOOK_LOOPBACK=0
# to refuse them as production does).
EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = os.environ.get("MOTCUA_WEBHOOK_LOOPBACK", "1") == "1"
