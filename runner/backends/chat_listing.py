"""One listing of a batch's chats shared by every create that finished before it began.

After creating, a run confirms by the batch's labels that its chat is the only one of its item.
A listing begun after a create answered shows that chat and any older one, so the creates of
one apply that finish together share one listing instead of paying one each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from runner.coder.chat_models import Chat


class SharedListing:
    """The latest listing begun after a moment; begun anew when none has been."""

    def __init__(self, list_chats: Callable[[], list[Chat]]) -> None:
        self._list = list_chats
        self._changed = threading.Condition()
        self._listing = False  # a listing is on the wire
        self._begun = float("-inf")  # when the last finished listing began
        self._chats: list[Chat] = []

    def since(self, moment: float) -> list[Chat]:
        """The batch's chats as a listing begun after `moment` (monotonic) shows them."""
        with self._changed:
            while self._begun <= moment:
                if not self._listing:
                    self._listing = True
                    break
                self._changed.wait()
            else:
                return self._chats
        begun = time.monotonic()
        try:
            chats = self._list()
        finally:
            with self._changed:
                self._listing = False
                self._changed.notify_all()
        with self._changed:
            if begun > self._begun:
                self._begun, self._chats = begun, chats
        return chats
