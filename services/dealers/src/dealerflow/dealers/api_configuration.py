"""The HTTP shape a store and a dealer group share: a configuration resource with
``GET/PUT/PATCH`` of the whole document and of each section, a calendar year import and
a paginated history, answered with an ETag of the version. Thin: read the headers, build
a command, run one use case in one transaction.

- ``If-Match: "<version>"`` (optional) makes a change conditional: another version is a
  412 problem. PUT and PATCH need no Idempotency-Key: a replace or a merge patch applied
  twice leaves the configuration as the first left it (the retry publishes nothing).
- Who changes it (history, DealerConfigured.changed_by) is the bearer token's subject
  (``uc.actor``). Each resource says who may read (``read_roles``), change and import a
  year (``change_roles``) and read the history (``history_roles``).
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations,
# which name the id's path type built per resource (not a module global).
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Path, Response
from pydantic import BaseModel

from dealerflow.dealers import usecases_queries as queries
from dealerflow.dealers.domain import ChangeKind, Owner, Section
from dealerflow.dealers.schemas import CalendarYearIn, HistoryEntryView, HistoryPage
from dealerflow.dealers.settings import DealersSettings
from dealerflow.dealers.usecases import ChangeConfiguration, ImportCalendarYear, Uc
from dealerflow.runtime.auth import Role, allow
from dealerflow.runtime.http import problem_doc
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext, service_context

Ctx = Annotated[ServiceContext[DealersSettings], Depends(service_context)]
YearPath = Annotated[int, Path(ge=2000, le=2100, description="The calendar year.")]
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag read before ("<version>"): the change is refused with 412 if '
        "the configuration changed meanwhile.",
    ),
]
#: A configuration document (a partial DealerSettings, or one section of it).
ConfigurationBody = Annotated[dict[str, Any], Body()]

_OBJECT = {"type": "object", "additionalProperties": True}
#: PATCH bodies are RFC 7396 merge patches (null: back to the inherited value).
MERGE_PATCH: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "RFC 7396 JSON merge patch of the overrides: null removes a key (back "
        "to the inherited value), objects merge, anything else replaces.",
        "content": {
            "application/merge-patch+json": {"schema": _OBJECT},
            "application/json": {"schema": _OBJECT},
        },
    }
}
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: problem_doc("If-Match names another version (precondition-failed)."),
    422: problem_doc("Invalid settings: errors[] names each field (pointer, loc)."),
}


class _Versioned(Protocol):
    @property
    def configuration_version(self) -> int: ...


class State(Protocol):
    """A use case's answer about a store or a group."""

    @property
    def record(self) -> _Versioned: ...


StateT = TypeVar("StateT", bound=State)


@dataclass(frozen=True)
class ConfigurationResource(Generic[StateT]):
    """How one kind of owner (store or group) is read, changed and shown."""

    owner: Owner
    #: e.g. "/dealers/{dealer_id}"; the id's path parameter is ``id_name``
    path: str
    id_name: str
    id_pattern: str
    sections: Sequence[Section]
    read: Callable[[Uc, str], Awaitable[StateT]]
    change: Callable[[Uc, ChangeConfiguration], Awaitable[StateT]]
    import_year: Callable[[Uc, ImportCalendarYear], Awaitable[StateT]]
    view: type[BaseModel]
    section_view: type[BaseModel]
    noun: str
    #: who may GET the configuration (whole or a section)
    read_roles: tuple[Role, ...]
    #: who may PUT/PATCH it and import a calendar year
    change_roles: tuple[Role, ...]
    #: who may read its history
    history_roles: tuple[Role, ...]


def if_match_version(header: str | None) -> int | None:
    """The version an If-Match header names (None: none or ``*``; -1: no version of ours,
    so it never matches)."""
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() else -1


def add_routes(router: APIRouter, resource: ConfigurationResource[Any]) -> None:
    """Register ``resource``'s endpoints on ``router``."""
    IdPath = Annotated[
        str, Path(alias=resource.id_name, pattern=resource.id_pattern, description="Its id.")
    ]
    noun = resource.noun

    async def answer(ctx: ServiceContext[DealersSettings], response: Response, work: Any) -> Any:
        state = await ctx.run_in_transaction(work)
        response.headers["ETag"] = f'"{state.record.configuration_version}"'
        return state

    def change_endpoint(kind: ChangeKind, section: Section | None) -> Callable[..., Any]:
        async def endpoint(
            ctx: Ctx,
            owner_id: IdPath,
            body: ConfigurationBody,
            response: Response,
            if_match: IfMatchHeader = None,
        ) -> Any:
            cmd = ChangeConfiguration(
                owner_id=owner_id,
                kind=kind,
                body=body,
                section=section,
                if_match=if_match_version(if_match),
            )
            state = await answer(ctx, response, lambda uc: resource.change(uc, cmd))
            return _shown(resource, state, section)

        return endpoint

    def read_endpoint(section: Section | None) -> Callable[..., Any]:
        async def endpoint(ctx: Ctx, owner_id: IdPath, response: Response) -> Any:
            state = await answer(ctx, response, lambda uc: resource.read(uc, owner_id))
            return _shown(resource, state, section)

        return endpoint

    for section in (None, *resource.sections):
        path = resource.path + (f"/{section.value}" if section else "")
        part = f"its {section.value}" if section else "the whole configuration"
        name = f"{resource.owner}_{section.value if section else 'configuration'}"
        model = resource.section_view if section else resource.view
        routes: tuple[tuple[str, Callable[..., Any], str, dict[str, Any]], ...] = (
            ("GET", read_endpoint(section), f"The {noun}'s {section or 'configuration'}", {}),
            (
                "PUT",
                change_endpoint("replace", section),
                f"Replace what the {noun} set in {part}",
                {},
            ),
            (
                "PATCH",
                change_endpoint("merge_patch", section),
                f"Merge patch what the {noun} set in {part} (RFC 7396)",
                MERGE_PATCH,
            ),
        )
        for method, endpoint, summary, extra in routes:
            roles = resource.read_roles if method == "GET" else resource.change_roles
            router.add_api_route(
                path,
                endpoint,
                methods=[method],
                response_model=model,
                responses=CHANGE_RESPONSES if method != "GET" else None,
                openapi_extra=extra or None,
                summary=summary,
                operation_id=f"{method.lower()}_{name}",
                dependencies=[allow(*roles)],
            )

    async def put_year(
        ctx: Ctx,
        owner_id: IdPath,
        year: YearPath,
        body: CalendarYearIn,
        response: Response,
        if_match: IfMatchHeader = None,
    ) -> Any:
        cmd = ImportCalendarYear(
            owner_id=owner_id,
            year=year,
            holidays=tuple(body.holidays),
            makeup_working_days=tuple(body.makeup_working_days),
            if_match=if_match_version(if_match),
        )
        state = await answer(ctx, response, lambda uc: resource.import_year(uc, cmd))
        return _shown(resource, state, Section.CALENDAR)

    router.add_api_route(
        resource.path + "/calendar/years/{year}",
        put_year,
        methods=["PUT"],
        response_model=resource.section_view,
        responses=CHANGE_RESPONSES,
        summary=f"Import a year of official dates (holidays, make-up working days) into the "
        f"{noun}'s calendar",
        operation_id=f"put_{resource.owner}_calendar_year",
        dependencies=[allow(*resource.change_roles)],
    )

    async def history(
        ctx: Ctx, owner_id: IdPath, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> HistoryPage:
        after = decode_cursor(cursor, int)
        found = await ctx.run_in_transaction(
            lambda uc: queries.history(
                uc, resource.owner, owner_id, before=after[0] if after else None, limit=limit + 1
            )
        )
        page, next_cursor = page_of(found, limit, lambda e: (e.version,))
        return HistoryPage(items=[HistoryEntryView.of(e) for e in page], next_cursor=next_cursor)

    router.add_api_route(
        resource.path + "/history",
        history,
        methods=["GET"],
        response_model=HistoryPage,
        summary=f"The {noun}'s configuration history, newest first",
        operation_id=f"get_{resource.owner}_history",
        dependencies=[allow(*resource.history_roles)],
    )


def _shown(resource: ConfigurationResource[Any], state: Any, section: Section | None) -> Any:
    if section is None:
        return resource.view.of(state)  # type: ignore[attr-defined]
    return resource.section_view.of(state, section)  # type: ignore[attr-defined]
