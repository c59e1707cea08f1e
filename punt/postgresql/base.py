"""Django's PostgreSQL backend, with a pool that gets over a server restart at once.

Django's pool (settings DATABASE_POOL) checks a connection before handing it out with psycopg_pool's
check loop, which backs off 1 s, 2 s, 4 s... between failed checks: after a PostgreSQL restart every
idle connection is dead, and a request meeting them waits out the pool's whole timeout and fails.
Here the pool hands out connections unchecked and this backend checks the one it got (one empty
round trip, as psycopg_pool's check_connection): a dead one goes back (the pool discards it and
opens a replacement), every other idle connection is checked at once (pool.check()), and the
request takes the next one, without a pause.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's pool property, re-declared with its check turned off; these are its private
    # attributes (Django 5.2), which django-stubs does not declare: check them on an upgrade.
    _connection_pools: dict[str, Any]
    _configure_connection: Any

    @property
    def pool(self) -> Any:
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        if self.alias not in self._connection_pools:
            from psycopg_pool import ConnectionPool

            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            kwargs = self.get_connection_params()
            kwargs["autocommit"] = True  # as Django's: it sets the real mode on each connection
            pool = ConnectionPool(
                kwargs=kwargs,
                open=False,
                configure=self._configure_connection,
                check=None,  # get_new_connection checks, without the pool's backoff
                **({} if options is True else options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool = self.pool
        if pool is None or not self.settings_dict["CONN_HEALTH_CHECKS"]:
            return super().get_new_connection(conn_params)
        for _ in range(pool.max_size + 1):
            connection = super().get_new_connection(conn_params)
            try:
                connection.execute("")
            except psycopg.Error:
                pool.putconn(connection)  # broken: the pool discards it and opens another
                pool.check()  # the server went away: its other idle connections are dead too
                continue
            return connection
        return super().get_new_connection(conn_params)  # the server is down: let the error show
