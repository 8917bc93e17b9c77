"""OwnTracks over MQTT: the worker subscribes to the broker the apps publish to.

A message is acknowledged only once its fixes are stored and committed: QoS 1, a
persistent session (clean session off, a stable client id), and paho's manual
acknowledgement. So a worker that dies after a message arrived and before its ``PUBACK``
gets it again on return (the broker resends unacknowledged messages to the same session),
and messages published while it was away wait in the broker's session for it. A resent
message is stored once: the intake drops a fix it already holds (same device, time and
position) and answers it as a duplicate.

- A message that cannot be read (not JSON, not OwnTracks, a topic that is not
  ``owntracks/user/device``), or whose fixes are all refused (an unknown device), is
  acknowledged, counted and logged: sending it again would not change the answer.
- When the database fails, the message is left unacknowledged and the connection is
  dropped; the broker resends it after the reconnection, ``retry_seconds`` later.
- Only the leader worker runs a subscriber (:mod:`service.worker`): one client id, one
  session, so no message is handled twice by two workers (and if a broker ever did hand
  one over twice, the intake's deduplication would make it harmless).

Messages are stored in batches: what arrived while the previous batch was being stored
(up to ``batch`` messages) goes through one ``intake.accept`` and one commit, and only
then is each acknowledged, in the order the messages arrived (MQTT 3.1.1 asks that of
QoS 1). The broker bounds how many unacknowledged messages it sends at once
(Mosquitto's ``max_inflight_messages``, 20 by default): raise it for the worker's broker,
or batches stay small.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.feeds import intake
from service.settings import ApiSettings, MqttSettings
from zones.errors import Busy, InvalidObservation, ZonesError
from zones.feeds.fix import FeedFix
from zones.feeds.owntracks import read_message

log = logging.getLogger("zones.mqtt")
REPORTER = "owntracks-mqtt"
QOS = 1


@dataclass
class Counts:
    """What the subscriber did, message by message (fixes for stored and duplicate)."""

    stored: int = 0
    duplicate: int = 0
    refused: int = 0  # fixes the intake refused: unknown device, nobody wore it, future
    unreadable: int = 0  # messages acknowledged without a fix: not OwnTracks, bad topic
    ignored: int = 0  # OwnTracks messages with no fix in them (lwt, transition, ...)
    failed: int = 0  # messages left unacknowledged because the database failed
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=100))  # last outcomes


def device_of(topic: str) -> tuple[str, str]:
    """The user and device of a topic ``owntracks/<user>/<device>``."""
    parts = topic.split("/")
    if len(parts) != 3:
        raise InvalidObservation(
            f"topic {topic[:80]!r} is not owntracks/<user>/<device>", field="topic"
        )
    return parts[1], parts[2]


class Subscriber:
    """One MQTT client in a thread of its own, storing what it receives; ``start`` and
    ``stop`` it. ``after_commit`` runs after each committed message, before its
    acknowledgement (the tests kill the process there)."""

    def __init__(
        self,
        settings: MqttSettings,
        sessions: sessionmaker[Session],
        api: ApiSettings,
        *,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.settings, self.sessions, self.api = settings, sessions, api
        self.after_commit = after_commit
        self.counts = Counts()
        self.connected = threading.Event()  # connected and subscribed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Received and not yet handled, with the connection they came on: after a
        # reconnection the broker sends the unacknowledged ones again, so older ones go.
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._generation = 0
        self._acking = threading.Lock()  # a reconnection waits for acknowledgements under way
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else None
            client.username_pw_set(settings.username, password)
        if settings.tls:
            client.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.reconnect_delay_set(1, max(1, int(settings.retry_seconds)))
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._received
        client.on_subscribe = self._subscribed
        self.client = client

    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=target, name=f"mqtt-{name}", daemon=True)
            for name, target in (("network", self._run), ("store", self._work))
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Disconnect cleanly: the broker keeps the session (and what was not acknowledged)
        for the next start."""
        self._stop.set()
        self._generation += 1  # what is still in the inbox is not acknowledged
        self.client.disconnect()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []

    def _run(self) -> None:
        s = self.settings
        while not self._stop.is_set():
            try:
                self.client.connect(s.host or "", s.port, s.keepalive_seconds)
                self.client.loop_forever(retry_first_connection=False)
            except (OSError, ssl.SSLError) as exc:
                log.warning("cannot reach the MQTT broker %s:%s (%s)", s.host, s.port, exc)
            if not self._stop.wait(s.retry_seconds):
                log.info("reconnecting to the MQTT broker")

    def _connected(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("the MQTT broker refused the connection: %s", reason)
            return
        with self._acking:
            self._generation += 1
        log.info("connected to the MQTT broker (session kept: %s)", flags.session_present)
        if flags.session_present:
            self.connected.set()
        else:
            # A kept session keeps its subscription; subscribing again would also make the
            # broker send every retained location again.
            client.subscribe(self.settings.topic, qos=QOS)

    def _subscribed(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("the MQTT broker refused the subscription to %s", self.settings.topic)
            return
        log.info("subscribed to %s", self.settings.topic)
        self.connected.set()  # subscribed: from now on nothing published is missed

    def _disconnected(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the MQTT broker: %s", reason)

    def _received(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put((self._generation, message))

    def _work(self) -> None:
        """Store what arrived, a batch at a time, and acknowledge it once committed."""
        while not self._stop.is_set():
            try:
                batch = [self._inbox.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < self.settings.batch:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            current = self._generation
            messages = [m for generation, m in batch if generation == current]
            if not messages:
                continue
            outcomes = self.handle([(m.topic, bytes(m.payload)) for m in messages])
            self.counts.recent.extend(outcomes)
            if "failed" in outcomes:
                self._generation += 1  # the rest of the inbox will come again too
                self.client.disconnect()  # unacknowledged: the broker resends after we return
                continue
            with self._acking:
                if self._generation != current:
                    # Reconnected meanwhile: their ids may now name other messages. The
                    # broker sends these again, and the intake knows them for duplicates.
                    continue
                for m in messages:
                    self.client.ack(m.mid, m.qos)

    def handle(self, messages: list[tuple[str, bytes]]) -> list[str]:
        """Store the fixes of messages (topic, payload) and commit; what became of each:
        ``stored``, ``duplicate``, ``refused``, ``ignored``, ``unreadable`` or ``failed``
        (then all of them are, and nothing is acknowledged)."""
        outcomes: list[str] = []
        fixes: list[FeedFix] = []
        owner: list[int] = []  # the message of each fix
        for i, (topic, payload) in enumerate(messages):
            try:
                user, device = device_of(topic)
                found = read_message(payload, user=user, device=device)
            except ZonesError as exc:
                self.counts.unreadable += 1
                log.warning("unreadable MQTT message on %s: %s", topic[:120], exc)
                outcomes.append("unreadable")
                continue
            except Exception:  # a reader's fault must not stop the subscriber, nor loop
                self.counts.unreadable += 1
                log.exception("MQTT message on %s could not be read", topic[:120])
                outcomes.append("unreadable")
                continue
            if not found:
                self.counts.ignored += 1
            outcomes.append("ignored")
            fixes += found
            owner += [i] * len(found)
        if not fixes:
            return outcomes
        try:
            with self.sessions() as session:
                results = intake.accept(session, fixes, self.api, reporter=REPORTER)
                session.commit()
        except (DataError, IntegrityError) as exc:
            # Sent again, these messages would fail again: store them one by one, so that
            # only the one the database refuses is dropped.
            if len(messages) > 1:
                return [out for m in messages for out in self.handle([m])]
            self.counts.unreadable += 1
            log.warning("MQTT message on %s not storable: %s", messages[0][0][:120],
                        type(exc).__name__)  # fmt: skip
            return ["unreadable"]
        except (DBAPIError, Busy):
            self.counts.failed += 1
            log.exception("database failure: %d MQTT messages will come again", len(messages))
            return ["failed"] * len(messages)
        except Exception:  # a fault of ours: one by one, so that one message is dropped
            if len(messages) > 1:
                return [out for m in messages for out in self.handle([m])]
            self.counts.unreadable += 1
            log.exception("MQTT message on %s could not be stored", messages[0][0][:120])
            return ["unreadable"]
        if self.after_commit is not None:
            self.after_commit()
        for i, rec in zip(owner, results, strict=True):
            topic = messages[i][0]
            if rec.error is not None:
                self.counts.refused += 1
                log.warning("MQTT fix on %s refused: %s", topic[:120], rec.error)
                outcomes[i] = "refused" if outcomes[i] == "ignored" else outcomes[i]
            elif rec.duplicate:
                self.counts.duplicate += 1
                outcomes[i] = "stored" if outcomes[i] == "stored" else "duplicate"
            else:
                self.counts.stored += 1
                outcomes[i] = "stored"
        return outcomes
