"""Encrypted, durable local persistence on TinyDB. Knows nothing of cases or sync."""

from storage.crypto import DEFAULT_KDF, KdfParams
from storage.errors import StoreError
from storage.store import EncryptedStore, SalvageReport
from storage.tinydb_ext import FieldDB, KeyedTable

__all__ = [
    "DEFAULT_KDF",
    "EncryptedStore",
    "FieldDB",
    "KeyedTable",
    "KdfParams",
    "SalvageReport",
    "StoreError",
]
