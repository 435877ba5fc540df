"""A deliverer that dies mid-send, run as a child process by tests/notifications/test_worker.py:
`python -m tests.support.dying_deliverer before|after` with APP_CONFIG=testing and the test's database and SMTP
server in the environment. `before`: it dies holding a claimed row, before the SMTP server sees the email;
`after`: it dies once the server has accepted the email, before recording it. Exit status 3 means it died there."""

from __future__ import annotations

import os
import sys

from app import create_app
from app.blueprints.notifications.delivery import deliver_due
from app.mail_transport import SmtpTransport
from config import TestingConfig


def main(when: str) -> None:
    send = SmtpTransport.send

    def send_and_die(self, message) -> None:
        if when == "after":
            send(self, message)
        os._exit(3)  # no cleanup, no commit, no rollback: like a killed worker

    SmtpTransport.send = send_and_die
    app = create_app(TestingConfig)
    with app.app_context():
        deliver_due()
    sys.exit(0)  # reached only when there was nothing to claim


if __name__ == "__main__":
    main(sys.argv[1])
