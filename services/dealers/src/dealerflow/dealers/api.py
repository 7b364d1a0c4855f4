"""HTTP API of stores (/v1/dealers): the list, and each store's configuration resource
(whole or by section, calendar years, history; see `dealerflow.dealers.api_configuration`).
A store never configured answers 200 with the defaults at version 0: every dealer has a
configuration, so an integrator never has to special-case a new store.

Who may call what: a store's configuration is read by every staff role of the store and
by integrations (other dealer systems read opening hours, calendars, people); changing it,
importing a calendar year and reading its history is the gm's (dealer configuration is
manager-only). The list shows only the stores the token covers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.dealers import usecases_queries as queries
from dealerflow.dealers.api_configuration import ConfigurationResource, Ctx, add_routes
from dealerflow.dealers.domain import DEALER_SECTIONS, GROUP_ID_PATTERN
from dealerflow.dealers.schemas import DealerPage, DealerSectionView, DealerSummary, DealerView
from dealerflow.dealers.usecases import DealerState, configure_dealer, import_dealer_year
from dealerflow.runtime.auth import STAFF, Principal, Role, allow
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of

router = APIRouter(prefix="/v1", tags=["dealers"])


#: Who may read a store's configuration (and list the stores the token covers).
STORE_READERS: tuple[Role, ...] = (*STAFF, Role.INTEGRATION)


@router.get("/dealers", response_model=DealerPage, summary="List configured stores")
async def list_dealers(
    ctx: Ctx,
    principal: Annotated[Principal, allow(*STORE_READERS)],
    group_id: Annotated[str | None, Query(pattern=GROUP_ID_PATTERN)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DealerPage:
    """The configured stores the token covers (its dealers, or its dealer group's
    stores; all for ``dealers: ["*"]``), by dealer id."""
    after = decode_cursor(cursor, str)
    covered = queries.Covered.of(principal)
    start = after[0] if after else None
    found = await ctx.run_in_transaction(
        lambda uc: queries.list_dealers(
            uc, group_id=group_id, covered=covered, after=start, limit=limit + 1
        )
    )
    page, next_cursor = page_of(found, limit, lambda d: (d.dealer_id,))
    return DealerPage(items=[DealerSummary.of(d) for d in page], next_cursor=next_cursor)


DEALERS: ConfigurationResource[DealerState] = ConfigurationResource(
    owner="dealer",
    path="/dealers/{dealer_id}",
    id_name="dealer_id",
    id_pattern=DEALER_ID_PATTERN,
    sections=DEALER_SECTIONS,
    read=queries.dealer_state,
    change=configure_dealer,
    import_year=import_dealer_year,
    view=DealerView,
    section_view=DealerSectionView,
    noun="store",
    read_roles=STORE_READERS,
    change_roles=(Role.GM,),
    history_roles=(Role.GM,),
)
add_routes(router, DEALERS)
