"""``@sudo_required``: the same arguments as the FastAPI dependency; callables receive the
request (``req.user``, ``req.POST``). Works on plain views, DRF ``@api_view`` functions (either
side of the DRF decorator), ``APIView``/``ViewSet`` methods (``self`` comes first), and async views."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from asgiref.sync import sync_to_async
from django.http import JsonResponse

from ...stores import Instruction
from ...sudo import INSTRUCTION_HEADER, SudoResponse, SudoSpec
from ...types import ActionType, SudoActionType, SudoEventType, ValidationField
from .conf import get_core, session_key
from .middleware import sudo_json

F = TypeVar("F", bound=Callable[..., Any])


def _find_request(args: tuple[Any, ...]) -> Any:
    for a in args[:2]:
        if hasattr(a, "META") and hasattr(a, "method"):
            return a
    raise TypeError("sudo_required: the decorated view takes no request")


def _key(request: Any) -> str | None:
    headers = getattr(request, "headers", None)
    v = headers.get(INSTRUCTION_HEADER) if headers is not None else None
    return str(v) if v else None


def sudo_required(
    *,
    expected_action: str,
    user_socket_hash: Callable[[Any], Any] | str,
    title: Callable[[Any], Any] | str,
    custom_type: SudoActionType | str = SudoActionType.LOCAL_AUTH,
    fields: Callable[[Any], Any] | Sequence[ValidationField] | None = None,
    description: Callable[[Any], Any] | str | None = None,
    subtitle: Callable[[Any], Any] | str | None = None,
    backend_url: Callable[[Any], Any] | str | None = None,
    numbers: Callable[[Any], Any] | Sequence[int] | None = None,
    expected_number: Callable[[Any], Any] | int | None = None,
    ttl_seconds: int = 180,
) -> Callable[[F], F]:
    spec = SudoSpec(
        expected_action=expected_action,
        user_socket_hash=user_socket_hash,
        title=title,
        custom_type=custom_type,
        fields=fields,
        description=description,
        subtitle=subtitle,
        backend_url=backend_url,
        numbers=numbers,
        expected_number=expected_number,
        ttl_seconds=ttl_seconds,
    )

    def decorate(view: F) -> F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                request = _find_request(args)
                try:
                    session = await sync_to_async(session_key)(request)
                    request.sudo_instruction = await get_core().aguard(spec, request, _key(request), session)
                except SudoResponse as e:
                    return sudo_json(e)
                return await view(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args)
            try:
                request.sudo_instruction = get_core().guard(spec, request, _key(request), session_key(request))
            except SudoResponse as e:
                return sudo_json(e)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _quorum_kwargs(
    title: str,
    event_type: SudoEventType | str,
    action_type: ActionType | str,
    fields: Sequence[ValidationField | Mapping[str, Any]] | None,
    relay_group_linked_id_list: Sequence[str] | None,
    relay_user_linked_id_list: Sequence[str] | None,
    grantor_tenant_id: str | None,
    description: str | None,
    ttl_seconds: int | None,
    requested_by: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return dict(
        title=title,
        event_type=event_type,
        action_type=action_type,
        fields=fields,
        relay_group_linked_id_list=relay_group_linked_id_list,
        relay_user_linked_id_list=relay_user_linked_id_list,
        grantor_tenant_id=grantor_tenant_id,
        description=description,
        ttl_seconds=ttl_seconds,
        requested_by=requested_by,
    )


def request_quorum(
    action: str,
    payload: Mapping[str, Any],
    *,
    title: str,
    event_type: SudoEventType | str = SudoEventType.SUDO_GROUP_ACTION,
    action_type: ActionType | str = ActionType.UPDATE,
    fields: Sequence[ValidationField | Mapping[str, Any]] | None = None,
    relay_group_linked_id_list: Sequence[str] | None = None,
    relay_user_linked_id_list: Sequence[str] | None = None,
    grantor_tenant_id: str | None = None,
    description: str | None = None,
    ttl_seconds: int | None = None,
    requested_by: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """Keeps the mutation for its server-side replay (``@on_approved(action)``) and answers 202."""
    kw = _quorum_kwargs(
        title,
        event_type,
        action_type,
        fields,
        relay_group_linked_id_list,
        relay_user_linked_id_list,
        grantor_tenant_id,
        description,
        ttl_seconds,
        requested_by,
    )
    return JsonResponse(get_core().request_quorum(action, payload, **kw), status=202)


async def arequest_quorum(
    action: str,
    payload: Mapping[str, Any],
    *,
    title: str,
    event_type: SudoEventType | str = SudoEventType.SUDO_GROUP_ACTION,
    action_type: ActionType | str = ActionType.UPDATE,
    fields: Sequence[ValidationField | Mapping[str, Any]] | None = None,
    relay_group_linked_id_list: Sequence[str] | None = None,
    relay_user_linked_id_list: Sequence[str] | None = None,
    grantor_tenant_id: str | None = None,
    description: str | None = None,
    ttl_seconds: int | None = None,
    requested_by: Mapping[str, Any] | None = None,
) -> JsonResponse:
    kw = _quorum_kwargs(
        title,
        event_type,
        action_type,
        fields,
        relay_group_linked_id_list,
        relay_user_linked_id_list,
        grantor_tenant_id,
        description,
        ttl_seconds,
        requested_by,
    )
    return JsonResponse(await get_core().arequest_quorum(action, payload, **kw), status=202)


__all__ = ["Instruction", "arequest_quorum", "request_quorum", "sudo_required"]
