"""Every ``/relay/*`` route of the Auth Relay, defined once for :class:`RelayClient` and
:class:`AsyncRelayClient` (which return the same :class:`RelayResponse`, directly or awaited).

Keyword arguments left at ``None`` are not sent. Shapes: the relay's OpenAPI document
(``/api/v1/openapi.json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .transport import Call, Endpoints, R, compact
from .types import ActionType, SudoActionType, SudoEventType, ValidationField, enum_value, fields_payload

FieldList = Sequence[ValidationField | Mapping[str, Any]]


class AuthEndpoints(Endpoints[R]):
    # ----- pairing and devices -----
    def prepare_pairing(
        self,
        *,
        user_socket_hash: str,
        backend_user_id: str,
        display_name: str,
        user_email: str | None = None,
        user_phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        display_logo_url: str | None = None,
    ) -> R:
        """A single-use ``pairing_proof`` (~5 min) to forward to the device."""
        return self._call(
            Call(
                "POST",
                "/relay/prepare-pairing",
                compact(
                    user_socket_hash=user_socket_hash,
                    backend_user_id=backend_user_id,
                    display_name=display_name,
                    user_email=user_email,
                    user_phone=user_phone,
                    first_name=first_name,
                    last_name=last_name,
                    display_logo_url=display_logo_url,
                ),
            )
        )

    def fetch_devices(self, *, user_socket_hash: str) -> R:
        return self._call(Call("GET", "/relay/fetch/devices", query={"user_socket_hash": user_socket_hash}))

    def revoke_device(self, *, user_socket_hash: str, device_id: str) -> R:
        """Idempotent (a revoked device answers 200 again), hence retried."""
        body = {"user_socket_hash": user_socket_hash, "device_id": device_id}
        return self._call(Call("POST", "/relay/revoke/device", body, idempotent=True))

    # ----- push challenges and alerts -----
    def send_auth_challenge(
        self,
        *,
        user_socket_hash: str,
        instruction_id: str,
        custom_type: SudoActionType | str,
        expected_action: str,
        backend_url: str | None = None,
        description: str | None = None,
        ttl_seconds: int | None = None,
        numbers: Sequence[int] | None = None,
        expected_number: int | None = None,
        display: Mapping[str, Any] | None = None,
        title: str | None = None,
        subtitle: str | None = None,
        fields: FieldList | None = None,
        approval_event: bool | None = None,
    ) -> R:
        """Push an approval challenge. ``title``/``subtitle``/``fields`` build ``display`` when it is not given;
        ``approval_event=True`` also sends the ApprovalEvent to the sudo callback path (what ``sudo_required`` sets)."""
        if display is None and title is not None:
            display = compact(title=title, subtitle=subtitle, fields=fields_payload(fields) or [])
        return self._call(
            Call(
                "POST",
                "/relay/send/auth-challenge",
                compact(
                    user_socket_hash=user_socket_hash,
                    instruction_id=instruction_id,
                    custom_type=enum_value(custom_type),
                    expected_action=expected_action,
                    backend_url=backend_url,
                    description=description,
                    ttl_seconds=ttl_seconds,
                    numbers=list(numbers) if numbers is not None else None,
                    expected_number=expected_number,
                    display=dict(display) if display is not None else None,
                    approval_event=approval_event,
                ),
            )
        )

    def send_security_alert(
        self,
        *,
        user_socket_hash: str,
        title: str,
        body: str,
        alert_type: str | None = None,
        instruction_id: str | None = None,
        ttl_seconds: int | None = None,
    ) -> R:
        return self._call(
            Call(
                "POST",
                "/relay/send/security-alert",
                compact(
                    user_socket_hash=user_socket_hash,
                    title=title,
                    body=body,
                    alert_type=alert_type,
                    instruction_id=instruction_id,
                    ttl_seconds=ttl_seconds,
                ),
            )
        )

    def fetch_delivery_status(self, *, instruction_id: str) -> R:
        return self._call(Call("GET", "/relay/fetch/delivery-status", query={"instruction_id": instruction_id}))

    def send_test_callback(self, *, note: str | None = None) -> R:
        """Ask for a signed ``platform.test`` callback at ``{callback_url_base}/relay-callbacks/test``."""
        return self._call(Call("POST", "/relay/send/test-callback", compact(note=note)))

    # ----- sudo -----
    def sudo_dispatch(
        self,
        *,
        event_type: SudoEventType | str,
        action_type: ActionType | str,
        instruction_id: str,
        expected_action: str,
        title: str,
        data_access_type: str = "static",
        description: str | None = None,
        custom_type: SudoActionType | str | None = None,
        fields: FieldList | None = None,
        relay_user_linked_id_list: Sequence[str] | None = None,
        relay_group_linked_id_list: Sequence[str] | None = None,
        grantor_tenant_id: str | None = None,
        data_items: FieldList | None = None,
        data_fetch_url: str | None = None,
        ttl_seconds: int | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        """Create a sudo validation event. With an ``idempotency_key`` a repeat returns the same event, so it is retried."""
        body = compact(
            event_type=enum_value(event_type),
            action_type=enum_value(action_type),
            instruction_id=instruction_id,
            expected_action=expected_action,
            title=title,
            description=description,
            custom_type=enum_value(custom_type),
            fields=fields_payload(fields),
            relay_user_linked_id_list=list(relay_user_linked_id_list) if relay_user_linked_id_list is not None else None,
            relay_group_linked_id_list=list(relay_group_linked_id_list) if relay_group_linked_id_list is not None else None,
            grantor_tenant_id=grantor_tenant_id,
            data_access_type=data_access_type,
            data_items=fields_payload(data_items),
            data_fetch_url=data_fetch_url,
            ttl_seconds=ttl_seconds,
            idempotency_key=idempotency_key,
        )
        return self._call(Call("POST", "/relay/sudo/dispatch", body, idempotent=idempotency_key is not None))

    def sudo_fetch_event(self, *, event_id: str | None = None, instruction_id: str | None = None) -> R:
        if (event_id is None) == (instruction_id is None):
            raise TypeError("give exactly one of event_id / instruction_id")
        return self._call(Call("GET", "/relay/sudo/fetch/event", query=compact(event_id=event_id, instruction_id=instruction_id)))

    def sudo_cancel(self, *, event_id: str) -> R:
        return self._call(Call("POST", "/relay/sudo/cancel", {"event_id": event_id}))

    def sudo_submit_response(self, *, instruction_id: str, response: str) -> R:
        """What the user typed on your page for a ``totp``/``goldenNumber`` instruction; the relay compares it."""
        return self._call(Call("POST", "/relay/sudo/submit-response", {"instruction_id": instruction_id, "response": response}))

    def create_group(
        self, *, name: str, member_relay_user_linked_ids: Sequence[str], threshold: int, deny_on_first_denial: bool | None = None
    ) -> R:
        body = compact(
            name=name,
            member_relay_user_linked_ids=list(member_relay_user_linked_ids),
            threshold=threshold,
            deny_on_first_denial=deny_on_first_denial,
        )
        return self._call(Call("POST", "/relay/sudo/create/group", body))

    def update_group(
        self,
        *,
        group_id: str,
        name: str | None = None,
        member_relay_user_linked_ids: Sequence[str] | None = None,
        threshold: int | None = None,
        deny_on_first_denial: bool | None = None,
    ) -> R:
        body = compact(
            group_id=group_id,
            name=name,
            member_relay_user_linked_ids=list(member_relay_user_linked_ids) if member_relay_user_linked_ids is not None else None,
            threshold=threshold,
            deny_on_first_denial=deny_on_first_denial,
        )
        return self._call(Call("POST", "/relay/sudo/update/group", body))

    def fetch_groups(self) -> R:
        return self._call(Call("GET", "/relay/sudo/fetch/groups"))

    def delete_group(self, *, group_id: str) -> R:
        return self._call(Call("POST", "/relay/sudo/delete/group", {"group_id": group_id}))

    def create_delegation_grant(
        self, *, grantee_tenant_id: str, relay_user_linked_id_list: Sequence[str] | None = None, relay_group_linked_id: str | None = None
    ) -> R:
        body = compact(
            grantee_tenant_id=grantee_tenant_id,
            relay_user_linked_id_list=list(relay_user_linked_id_list) if relay_user_linked_id_list is not None else None,
            relay_group_linked_id=relay_group_linked_id,
        )
        return self._call(Call("POST", "/relay/sudo/create/delegation-grant", body))

    def revoke_delegation_grant(self, *, grant_id: str) -> R:
        return self._call(Call("POST", "/relay/sudo/revoke/delegation-grant", {"grant_id": grant_id}))

    def fetch_delegation_grants(self) -> R:
        return self._call(Call("GET", "/relay/sudo/fetch/delegation-grants"))

    # ----- QR login -----
    def qr_login_initiate(self, *, browser_origin: str) -> R:
        return self._call(Call("POST", "/relay/qr-login/initiate", {"browser_origin": browser_origin}))

    def qr_login_poll(self, *, session_id: str, poll_token: str) -> R:
        return self._call(Call("GET", "/relay/qr-login/poll", query={"session_id": session_id}, headers={"X-QR-Poll-Token": poll_token}))

    # ----- passkeys (WebAuthn) -----
    def webauthn_register_options(
        self,
        *,
        username: str,
        browser_origin: str,
        relay_user_linked_id: str | None = None,
        backend_user_id: str | None = None,
        display_name: str | None = None,
    ) -> R:
        body = compact(
            relay_user_linked_id=relay_user_linked_id,
            backend_user_id=backend_user_id,
            username=username,
            display_name=display_name,
            browser_origin=browser_origin,
        )
        return self._call(Call("POST", "/relay/webauthn/register/options", body))

    def webauthn_register_verify(
        self, *, browser_origin: str, response: Mapping[str, Any], relay_user_linked_id: str | None = None, name: str | None = None
    ) -> R:
        body = compact(browser_origin=browser_origin, response=dict(response), relay_user_linked_id=relay_user_linked_id, name=name)
        return self._call(Call("POST", "/relay/webauthn/register/verify", body))

    def webauthn_authenticate_options(
        self, *, browser_origin: str, relay_user_linked_id: str | None = None, backend_user_id: str | None = None
    ) -> R:
        body = compact(browser_origin=browser_origin, relay_user_linked_id=relay_user_linked_id, backend_user_id=backend_user_id)
        return self._call(Call("POST", "/relay/webauthn/authenticate/options", body))

    def webauthn_authenticate_verify(
        self, *, browser_origin: str, response: Mapping[str, Any], relay_user_linked_id: str | None = None
    ) -> R:
        body = compact(browser_origin=browser_origin, response=dict(response), relay_user_linked_id=relay_user_linked_id)
        return self._call(Call("POST", "/relay/webauthn/authenticate/verify", body))

    def webauthn_fetch_passkeys(self, *, relay_user_linked_id: str) -> R:
        return self._call(Call("POST", "/relay/webauthn/fetch/passkeys", {"relay_user_linked_id": relay_user_linked_id}))

    def webauthn_rename_passkey(self, *, relay_user_linked_id: str, credential_id: str, name: str) -> R:
        body = {"relay_user_linked_id": relay_user_linked_id, "credential_id": credential_id, "name": name}
        return self._call(Call("POST", "/relay/webauthn/rename/passkey", body))

    def webauthn_revoke_passkey(self, *, relay_user_linked_id: str, credential_id: str) -> R:
        body = {"relay_user_linked_id": relay_user_linked_id, "credential_id": credential_id}
        return self._call(Call("POST", "/relay/webauthn/revoke/passkey", body, idempotent=True))
