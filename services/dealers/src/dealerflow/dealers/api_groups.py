"""HTTP API of dealer groups (/v1/dealer-groups): the settings every store of the group
inherits (calendar, rules, people; a profile is per store). A change re-publishes each
store of the group whose effective configuration it changes (``stores_changed``). An
unknown group answers 200 with the defaults at version 0, like an unknown store.

Groups are administered by the platform: every operation is admin-only (whether a gm
belongs to a store of the group is not known from the token cheaply, and a group change
reaches every store of it)."""

from __future__ import annotations

from fastapi import APIRouter

from dealerflow.dealers import usecases_queries as queries
from dealerflow.dealers.api_configuration import ConfigurationResource, add_routes
from dealerflow.dealers.domain import GROUP_ID_PATTERN, GROUP_SECTIONS
from dealerflow.dealers.schemas import GroupSectionView, GroupView
from dealerflow.dealers.usecases import GroupState, configure_group, import_group_year
from dealerflow.runtime.auth import Role

router = APIRouter(prefix="/v1", tags=["dealer groups"])

GROUPS: ConfigurationResource[GroupState] = ConfigurationResource(
    owner="group",
    path="/dealer-groups/{group_id}",
    id_name="group_id",
    id_pattern=GROUP_ID_PATTERN,
    sections=GROUP_SECTIONS,
    read=queries.group_state,
    change=configure_group,
    import_year=import_group_year,
    view=GroupView,
    section_view=GroupSectionView,
    noun="group",
    read_roles=(Role.ADMIN,),
    change_roles=(Role.ADMIN,),
    history_roles=(Role.ADMIN,),
)
add_routes(router, GROUPS)
