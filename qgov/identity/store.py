"""The session engine (SESSION_ENGINE): Django's database sessions, kept under a hash of the
cookie's key instead of the key itself. A copy of the session table lets nobody sign in as its
users, and a session can be ended knowing only its hash (UserSession.key_hash)."""

import contextlib
import hashlib

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import db


def hash_session_key(session_key: str) -> str:
    # 160 bits of SHA-256: session keys are 32 random characters, so no dictionary to try; 40
    # characters is what the session table's key column holds.
    return hashlib.sha256(f"qgov-session:{session_key}".encode()).hexdigest()[:40]


class SessionStore(db.SessionStore):
    @property
    def key_hash(self) -> str | None:
        return hash_session_key(self.session_key) if self.session_key else None

    def _get_session_from_db(self):
        with self._hashed_key():
            return super()._get_session_from_db()

    async def _aget_session_from_db(self):
        with self._hashed_key():
            return await super()._aget_session_from_db()

    @contextlib.contextmanager
    def _hashed_key(self):
        """The parent's read, with the hash in place of the key; a key that found nothing is dropped
        by the parent and stays dropped."""
        key = self.session_key
        self._session_key = hash_session_key(key)
        try:
            yield
        finally:
            self._session_key = key if self._session_key is not None else None

    def exists(self, session_key):
        return super().exists(hash_session_key(session_key))

    async def aexists(self, session_key):
        return await super().aexists(hash_session_key(session_key))

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        obj.session_key = hash_session_key(obj.session_key)
        return obj

    async def acreate_model_instance(self, data):
        obj = await super().acreate_model_instance(data)
        obj.session_key = hash_session_key(obj.session_key)
        return obj

    def cycle_key(self):
        """A new key for the same session (a password change, a second sign-in of the same user):
        its record moves with it, or the session would go on unlisted on "Your sessions", where
        nobody could end it, and the expiry task would close a record the browser still uses."""
        old_key = self.session_key
        super().cycle_key()
        self._record_moved(old_key)

    async def acycle_key(self):
        old_key = self.session_key
        await super().acycle_key()
        await sync_to_async(self._record_moved)(old_key)

    def _record_moved(self, old_key):
        from qgov.identity.models import UserSession

        if old_key and self.session_key and old_key != self.session_key:
            UserSession.objects.filter(key_hash=hash_session_key(old_key)).update(
                key_hash=hash_session_key(self.session_key))

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=hash_session_key(session_key)).delete()

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            await self.model.objects.filter(session_key=hash_session_key(session_key)).adelete()
