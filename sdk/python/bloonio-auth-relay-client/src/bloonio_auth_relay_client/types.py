"""The relay's enumerations and display blocks, as the authenticator app renders them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class DataType(str, Enum):
    """How the authenticator renders a field (the relay's ``data_type`` list)."""

    CURRENCY_USD = "CURRENCY_USD"
    CURRENCY_EUR = "CURRENCY_EUR"
    CURRENCY_GBP = "CURRENCY_GBP"
    IBAN = "IBAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    PARTY_NAME = "PARTY_NAME"
    ENTITY_REFERENCE = "ENTITY_REFERENCE"
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    URL = "URL"
    IP_ADDRESS = "IP_ADDRESS"
    LOCATION = "LOCATION"


class SudoActionType(str, Enum):
    """The relay's ``custom_type``: how the user confirms on the device."""

    LOCAL_AUTH = "localAuth"
    TOTP = "totp"
    GOLDEN_NUMBER = "goldenNumber"


class ActionType(str, Enum):
    """What a sudo dispatch does to the data (``action_type``)."""

    CREATION = "creation"
    DELETION = "deletion"
    UPDATE = "update"
    UPSERT = "upsert"


class SudoEventType(str, Enum):
    SUDO_ACTION = "sudo_action"
    SUDO_GROUP_ACTION = "sudo_group_action"
    SUDO_DELEGATED_ACTION = "sudo_delegated_action"
    AUTH_CHALLENGE = "auth_challenge"


class ApprovalStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ValidationField:
    """One line of what the user approves: ``key``, ``title`` (label), ``value``, ``data_type``."""

    key: str
    title: str
    value: str
    data_type: DataType | str = DataType.TEXT

    def to_dict(self) -> dict[str, str]:
        dt = self.data_type.value if isinstance(self.data_type, DataType) else str(self.data_type)
        return {"key": self.key, "title": self.title, "value": str(self.value), "data_type": dt}


def enum_value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def fields_payload(fields: Any) -> list[dict[str, str]] | None:
    if fields is None:
        return None
    return [f.to_dict() if isinstance(f, ValidationField) else dict(f) for f in fields]
