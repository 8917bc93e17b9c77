"""A subscriber process for the MQTT tests: ``python -m tests.service.mqtt_harness URL HOST
PORT CLIENT_ID``. It stores what it receives and, after committing the first message and
before acknowledging it, kills itself with SIGKILL: a worker dying at the worst moment."""

from __future__ import annotations

import os
import signal
import sys
import time

from sqlalchemy import create_engine

from service.db.engine import make_sessionmaker
from service.feeds.mqtt import Subscriber
from service.settings import ApiSettings, MqttSettings


def main() -> None:
    url, host, port, client_id = sys.argv[1:5]
    engine = create_engine(url)
    subscriber = Subscriber(
        MqttSettings(host=host, port=int(port), client_id=client_id, retry_seconds=0.2),
        make_sessionmaker(engine),
        ApiSettings(),
        after_commit=lambda: os.kill(os.getpid(), signal.SIGKILL),
    )
    subscriber.start()
    if subscriber.connected.wait(30):
        print("connected", flush=True)
    time.sleep(60)  # the test publishes; the process dies on the first message


if __name__ == "__main__":
    main()
