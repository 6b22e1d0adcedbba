"""MongoDB backend (the ``mongo`` extra), meant for :class:`PendingOpStore`, whose mutations must
outlive a Redis flush for their 10–30 minutes. One collection, documents ``{_id: key, v, expires_at}``
looked up by ``_id`` only; an expired document is treated as absent (a TTL index only tidies up).
``swap`` is one guarded ``update_one`` (atomic on MongoDB)."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from typing import Any

try:
    from pymongo import AsyncMongoClient, MongoClient
    from pymongo.errors import DuplicateKeyError, OperationFailure
    from pymongo.uri_parser import parse_uri
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError('The MongoDB state backend needs the mongo extra: pip install "bloonio-auth-relay-client[mongo]"') from e


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _exp(ttl_s: float) -> dt.datetime:
    return _now() + dt.timedelta(seconds=ttl_s)


class MongoKV:
    def __init__(self, uri: str, *, collection: str = "bloonio_relay_state", database: str | None = None, **options: Any) -> None:
        self.uri = uri
        self._db = database or parse_uri(uri).get("database") or "bloonio_relay"
        self._coll_name = collection
        self._options = {"serverSelectionTimeoutMS": 5000, "tz_aware": True, **options}
        self._sync: MongoClient[dict[str, Any]] = MongoClient(uri, **self._options)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncMongoClient[dict[str, Any]]] = weakref.WeakKeyDictionary()
        self._indexed = False

    def _coll(self) -> Any:
        c = self._sync[self._db][self._coll_name]
        if not self._indexed:
            try:
                c.create_index("expires_at", expireAfterSeconds=0)
            except OperationFailure:
                pass  # a server without TTL indexes: expired documents are ignored on read anyway
            self._indexed = True
        return c

    def _acoll(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = AsyncMongoClient(self.uri, **self._options)
        return client[self._db][self._coll_name]

    # ----- sync -----
    def get(self, key: str) -> str | None:
        d = self._coll().find_one({"_id": key})
        return str(d["v"]) if d and d["expires_at"] > _now() else None

    def put_new(self, key: str, value: str, ttl_s: float) -> bool:
        c = self._coll()
        try:
            c.insert_one({"_id": key, "v": value, "expires_at": _exp(ttl_s)})
            return True
        except DuplicateKeyError:
            # Taken, unless only by an expired document: replace that one, guarded by its expiry.
            r = c.update_one({"_id": key, "expires_at": {"$lte": _now()}}, {"$set": {"v": value, "expires_at": _exp(ttl_s)}})
            return bool(r.modified_count == 1)

    def swap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        r = self._coll().update_one({"_id": key, "v": old, "expires_at": {"$gt": _now()}}, {"$set": {"v": new, "expires_at": _exp(ttl_s)}})
        return bool(r.modified_count == 1)

    def delete(self, key: str) -> None:
        self._coll().delete_one({"_id": key})

    # ----- async -----
    async def aget(self, key: str) -> str | None:
        d = await self._acoll().find_one({"_id": key})
        return str(d["v"]) if d and d["expires_at"] > _now() else None

    async def aput_new(self, key: str, value: str, ttl_s: float) -> bool:
        self._coll()  # the TTL index, once (sync, at first use)
        c = self._acoll()
        try:
            await c.insert_one({"_id": key, "v": value, "expires_at": _exp(ttl_s)})
            return True
        except DuplicateKeyError:
            r = await c.update_one({"_id": key, "expires_at": {"$lte": _now()}}, {"$set": {"v": value, "expires_at": _exp(ttl_s)}})
            return bool(r.modified_count == 1)

    async def aswap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        r = await self._acoll().update_one(
            {"_id": key, "v": old, "expires_at": {"$gt": _now()}}, {"$set": {"v": new, "expires_at": _exp(ttl_s)}}
        )
        return bool(r.modified_count == 1)

    async def adelete(self, key: str) -> None:
        await self._acoll().delete_one({"_id": key})

    def drop(self) -> None:
        """Drops the collection (tests)."""
        self._sync[self._db].drop_collection(self._coll_name)

    def close(self) -> None:
        self._sync.close()
