"""Drop from one translation template every message another template already has.

The dashboard's template (domain "dashboard") would otherwise repeat texts it shares with the
bot ("Take it", "(anonymous)"): those are translated once, in "messages", which the dashboard
looks up first (see bot.i18n.Catalogs.load).

    python -m bot.catalog_prune locales/dashboard.pot locales/messages.pot
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def prune(template: Path, against: Path) -> int:
    """Remove the shared messages from `template` in place; returns how many were removed."""
    with against.open("rb") as handle:
        known = {message.id for message in read_po(handle) if message.id}
    with template.open("rb") as handle:
        catalog = read_po(handle)
    shared = [message.id for message in catalog if message.id and message.id in known]
    for message_id in shared:
        del catalog[message_id]
    with template.open("wb") as handle:
        write_po(handle, catalog, width=76, sort_output=True, omit_header=False)
    return len(shared)


if __name__ == "__main__":
    removed = prune(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{sys.argv[1]}: {removed} messages shared with {sys.argv[2]} removed")
