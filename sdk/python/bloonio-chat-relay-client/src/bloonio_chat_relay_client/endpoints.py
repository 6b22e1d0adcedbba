"""The Chat Relay's backend routes (HMAC #1), defined once for the sync and async clients."""

from __future__ import annotations

from collections.abc import Sequence

from bloonio_auth_relay_client.transport import Call, Endpoints, R, compact

SENDER_TYPES = ("visitor", "bot", "system")


class ChatEndpoints(Endpoints[R]):
    def mint_visitor_token(
        self,
        visitor_user_id: str,
        visitor_email_hash: str | None = None,
        ttl_seconds: int = 3600,
        *,
        origin: str | None = None,
        routing_key: str | None = None,
        mode: str | None = None,
        locale: str | None = None,
    ) -> R:
        """A visitor token for an identified visitor (in-app SDKs); reuses that visitor's live session.
        ``visitor_email_hash`` is the sha256 hex of the e-mail; ``origin`` binds the token to one allowed origin."""
        body = compact(
            visitor_user_id=visitor_user_id,
            visitor_email_hash=visitor_email_hash,
            ttl_seconds=ttl_seconds,
            origin=origin,
            routing_key=routing_key,
            mode=mode,
            locale=locale,
        )
        return self._call(Call("POST", "/relay/mint/visitor-token", body))

    def create_conversation(self, session_id: str) -> R:
        """Opens the session's conversation (201) or returns it (200): idempotent, hence retried."""
        return self._call(Call("POST", "/relay/create/conversation", {"session_id": session_id}, idempotent=True))

    def send_message(self, conversation_id: str, text: str, *, sender_type: str = "bot") -> R:
        """A message as the bot (default), the system or the visitor (not retried: a retry could post it twice)."""
        if sender_type not in SENDER_TYPES:
            raise ValueError(f"sender_type must be one of {', '.join(SENDER_TYPES)}")
        body = {"conversation_id": conversation_id, "sender_type": sender_type, "text": text}
        return self._call(Call("POST", "/relay/send/chat-message", body))

    def escalate_conversation(self, conversation_id: str, reason: str | None = None) -> R:
        """Bot lane → human queue, with a ticket (escalation-triggered + ticket-created callbacks)."""
        return self._call(Call("POST", "/relay/escalate/conversation", compact(conversation_id=conversation_id, reason=reason)))

    def fetch_conversation(self, conversation_id: str, *, after_seq: int | None = None, limit: int | None = None) -> R:
        query = compact(conversation_id=conversation_id, after_seq=after_seq, limit=limit)
        return self._call(Call("GET", "/relay/fetch/conversation", query=query))

    def fetch_ticket(self, ticket_id: str) -> R:
        return self._call(Call("GET", "/relay/fetch/ticket", query={"ticket_id": ticket_id}))

    def provision_operator(
        self,
        email: str,
        display_name: str,
        routing_keys: Sequence[str] | None = None,
        *,
        role: str | None = None,
        backend_user_id: str | None = None,
    ) -> R:
        """Create-or-reuse (idempotent on email + tenant, hence retried): ``created`` says which."""
        body = compact(
            email=email,
            display_name=display_name,
            routing_keys=list(routing_keys) if routing_keys is not None else None,
            role=role,
            backend_user_id=backend_user_id,
        )
        return self._call(Call("POST", "/relay/provision/operator", body, idempotent=True))

    def deprovision_operator(self, *, operator_id: str | None = None, email: str | None = None) -> R:
        """Disable an operator (idempotent): its tokens are refused and its sockets closed at once;
        ``provision_operator`` enables it again."""
        if (operator_id is None) == (email is None):
            raise TypeError("give exactly one of operator_id / email")
        body = compact(operator_id=operator_id, email=email)
        return self._call(Call("POST", "/relay/deprovision/operator", body, idempotent=True))

    def mint_operator_token(self, *, operator_id: str | None = None, email: str | None = None, ttl_seconds: int | None = None) -> R:
        if (operator_id is None) == (email is None):
            raise TypeError("give exactly one of operator_id / email")
        body = compact(operator_id=operator_id, email=email, ttl_seconds=ttl_seconds)
        return self._call(Call("POST", "/relay/mint/operator-token", body))
