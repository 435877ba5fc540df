"""What accounts announce, inside the transaction of the change (auth/password_reset.py).

Notifications connects to these (auth never imports notifications): receivers get the model as `sender`, may add
rows to the session and must not commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

password_reset_requested = _signals.signal(
    "password-reset-requested", doc="A reset link was made for an account (sender: the PasswordReset); email it.")
