"""Kombu's Redis transport, made to survive Redis going away while a worker holds a task.

When the connection to Redis drops, kombu closes the channel and tries to put the tasks this worker had
received back on their queue (``restore_unacked``). With Redis unreachable that cannot work, and kombu 5.7
then fails on its own closed connection (``'NoneType' object has no attribute 'hostname'``): an
"Unrecoverable error" that stops the worker instead of letting it reconnect. Here the restore is skipped
when Redis is gone: the tasks stay in Redis's unacked set, and any worker hands them out again after the
visibility timeout (``KBPORTAL_CELERY_VISIBILITY_TIMEOUT``); if Redis lost its data, the sweepers re-queue
the work. Installed by ``CELERY_BROKER_TRANSPORT`` in the settings.
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    def restore_unacked(self, client=None):
        if self.channel.connection is None or self.channel.connection.client is None:
            self._left_for_the_visibility_timeout()
            return
        try:
            super().restore_unacked(client)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            self._left_for_the_visibility_timeout()

    def _left_for_the_visibility_timeout(self) -> None:
        if self._delivered:
            logger.warning(
                "broker unavailable: %s received task(s) left in Redis's unacked set; they are handed out again "
                "after the visibility timeout",
                len(self._delivered),
            )
        self._delivered.clear()


class Channel(kombu_redis.Channel):
    QoS = QoS


class RedisTransport(kombu_redis.Transport):
    Channel = Channel
