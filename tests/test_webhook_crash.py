"""`python -m bot serve` with a webhook, killed with SIGKILL at random moments while 20 people do
their intake: Telegram (the fake Bot API in webhook mode) sends again every update whose POST
was not answered 2xx, and nothing is lost, nothing is done twice, every intake ends with
exactly the answers given (tests/crash.py)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.crash import killed_during_intakes
from tests.fakes import FakeBotAPI
from tests.serving import WEBHOOK_SECRET, WEBHOOK_URL


async def test_killed_again_and_again_serve_loses_no_update_and_does_none_twice(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a free port, the same for every start
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server.forward_webhooks(f"http://127.0.0.1:{port}")  # as the HTTPS proxy in front would
    env = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    bots = await killed_during_intakes(server, tmp_path, "serve", env)
    unanswered = [d for d in server.webhook_deliveries if not d.accepted]
    print(f"{len(server.webhook_deliveries)} POSTs, {len(unanswered)} not answered 2xx")
    assert bots.kills >= 10
    assert server.calls_of("getUpdates") == []  # every update came by the webhook
    assert unanswered  # some were cut off by a kill, and were sent again
    # A reply cut off by a kill may be made again when its update runs again (an edit that
    # then changes nothing: docs/ARCHITECTURE.md, "What may repeat"); nothing else is refused.
    assert [v for v in server.violations if "message is not modified" not in v] == []
