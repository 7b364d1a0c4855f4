"""The optional Keycloak of docker-compose.yml and its imported realm agree with what the
services expect of a token (no Docker here: the files are read).

Keycloak puts realm roles into ``realm_access.roles`` and user attributes nowhere by
default; the realm's protocol mappers put them into the top-level ``roles``, ``dealers``
and ``dealer_group`` claims, and an audience mapper adds ``dealerflow`` to ``aud``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from dealerflow.devinfra.config import find_repo_root
from dealerflow.devinfra.issuer import DEFAULT_AUDIENCE, STAFF_ROLES
from dealerflow.devinfra.versions import KEYCLOAK_IMAGE

ROOT = find_repo_root() or Path.cwd()
REALM_FILE = ROOT / "deploy" / "keycloak" / "dealerflow-realm.json"
CLIENTS = ("dealerflow", "dealerflow-integration")


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return dict(json.loads(REALM_FILE.read_text("utf-8")))


def _client(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    (client,) = [c for c in realm["clients"] if c["clientId"] == client_id]
    return dict(client)


def _mappers(client: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in client["protocolMappers"]}


def test_the_realm_declares_exactly_the_eight_roles(realm: dict[str, Any]) -> None:
    assert realm["realm"] == "dealerflow"
    assert realm["enabled"] is True
    assert [r["name"] for r in realm["roles"]["realm"]] == list(STAFF_ROLES)
    assert all(r["description"] for r in realm["roles"]["realm"])


@pytest.mark.parametrize("client_id", CLIENTS)
def test_each_client_maps_audience_roles_dealers_and_group(
    realm: dict[str, Any], client_id: str
) -> None:
    client = _client(realm, client_id)
    mappers = _mappers(client)
    assert {m["protocol"] for m in mappers.values()} == {"openid-connect"}
    audience = mappers["audience dealerflow"]
    assert audience["protocolMapper"] == "oidc-audience-mapper"
    assert audience["config"]["included.client.audience"] == DEFAULT_AUDIENCE
    assert audience["config"]["access.token.claim"] == "true"
    roles = mappers["roles"]
    assert roles["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert roles["config"]["claim.name"] == "roles"  # top level, not realm_access.roles
    assert roles["config"]["multivalued"] == "true"
    assert roles["config"]["usermodel.realmRoleMapping.rolePrefix"] == ""
    for claim, multivalued in (("dealers", "true"), ("dealer_group", "false")):
        mapper = mappers[claim]
        assert mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper"
        assert mapper["config"]["user.attribute"] == claim
        assert mapper["config"]["claim.name"] == claim
        assert mapper["config"]["multivalued"] == multivalued  # dealers: always a list
    for mapper in mappers.values():
        assert mapper["config"]["access.token.claim"] == "true"
    # Only dealerflow's roles reach the token (not default-roles-dealerflow, offline_access).
    assert client["fullScopeAllowed"] is False


def test_the_clients_grants_and_role_scopes(realm: dict[str, Any]) -> None:
    staff = _client(realm, "dealerflow")
    assert staff["publicClient"] is True
    assert staff["directAccessGrantsEnabled"] is True  # the password grant (development)
    assert staff["serviceAccountsEnabled"] is False
    machine = _client(realm, "dealerflow-integration")
    assert machine["publicClient"] is False
    assert machine["serviceAccountsEnabled"] is True  # the client-credentials grant
    assert machine["secret"]
    assert (machine["standardFlowEnabled"], machine["directAccessGrantsEnabled"]) == (
        False,
        False,
    )
    scopes = {m["client"]: m["roles"] for m in realm["scopeMappings"]}
    assert sorted(scopes["dealerflow"]) == sorted(r for r in STAFF_ROLES if r != "integration")
    assert scopes["dealerflow-integration"] == ["integration"]


def test_one_demo_user_per_role_for_dealer_d001(realm: dict[str, Any]) -> None:
    users = realm["users"]
    people = [u for u in users if "serviceAccountClientId" not in u]
    assert sorted(role for u in people for role in u["realmRoles"]) == sorted(
        r for r in STAFF_ROLES if r != "integration"
    )
    for user in people:
        assert user["id"] == user["username"]  # the token's sub is the staff id
        assert user["enabled"] is user["emailVerified"] is True
        # A user missing a required profile field cannot use the password grant.
        assert all(user[field] for field in ("email", "firstName", "lastName"))
        assert user["attributes"]["dealers"] == ["D001"]
        (credential,) = user["credentials"]
        assert (credential["type"], credential["temporary"]) == ("password", False)
    (robot,) = [u for u in users if "serviceAccountClientId" in u]
    assert robot["serviceAccountClientId"] == "dealerflow-integration"
    assert robot["username"] == "service-account-dealerflow-integration"
    assert robot["realmRoles"] == ["integration"]
    assert robot["attributes"]["dealers"] == ["D001"]
    for user in users:
        assert set(user["realmRoles"]) <= set(STAFF_ROLES)


def test_the_user_profile_declares_the_dealer_attributes(realm: dict[str, Any]) -> None:
    # Keycloak 24+ drops undeclared ("unmanaged") attributes on import, and a mapper of a
    # dropped attribute emits nothing; so the profile must declare them.
    (provider,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    assert provider["providerId"] == "declarative-user-profile"
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    assert {"username", "email", "firstName", "lastName"} <= set(attributes)
    assert attributes["dealers"]["multivalued"] is True
    assert attributes["dealer_group"]["multivalued"] is False
    for name in ("dealers", "dealer_group"):
        assert attributes[name]["permissions"]["edit"] == ["admin"]  # users cannot widen
    groups = {g["name"] for g in profile["groups"]}
    assert {a["group"] for a in attributes.values() if "group" in a} <= groups


def test_compose_runs_keycloak_only_in_its_profile_with_the_realm_imported() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    keycloak = compose["services"]["keycloak"]
    assert keycloak["profiles"] == ["keycloak"]
    assert keycloak["image"] == KEYCLOAK_IMAGE
    assert not KEYCLOAK_IMAGE.endswith(":latest")
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    (volume,) = keycloak["volumes"]
    source, target, mode = volume.split(":")
    assert (ROOT / source).resolve() == REALM_FILE.resolve()
    assert target == "/opt/keycloak/data/import/dealerflow-realm.json"
    assert mode == "ro"
    env = keycloak["environment"]
    assert env["KC_HOSTNAME"] == "http://localhost:8080"
    assert env["KC_HEALTH_ENABLED"] == "true"
    assert keycloak["ports"] == ["8080:8080"]
    assert "/health/ready" in keycloak["healthcheck"]["test"][1]
    # Every service trusts that realm unless told otherwise.
    for name in ("dealers", "leads", "sales", "service-center", "complaints", "notifier"):
        service_env = compose["services"][name]["environment"]
        assert service_env["DEALERFLOW_AUTH_ISSUER"] == (
            "${DEALERFLOW_AUTH_ISSUER:-http://localhost:8080/realms/dealerflow}"
        )
        assert service_env["DEALERFLOW_AUTH_AUDIENCE"] == "${DEALERFLOW_AUTH_AUDIENCE:-dealerflow}"
        assert service_env["DEALERFLOW_AUTH_JWKS_URL"] == (
            "${DEALERFLOW_AUTH_JWKS_URL:-http://keycloak:8080/realms/dealerflow"
            "/protocol/openid-connect/certs}"
        )
