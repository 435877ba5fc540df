"""What reviews announce, inside the transaction that writes the review or its reply (reviews/services.py).

Notifications connects to these (reviews never imports notifications); receivers get the Review as `sender`,
may add rows to the session and must not commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

review_created = _signals.signal("review-created", doc="A guest reviewed a completed stay.")
review_responded = _signals.signal("review-responded", doc="The listing's host replied to a review.")
