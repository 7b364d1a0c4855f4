"""``dealerflow-auth`` (token, jwks, rotate, serve) and how ``dealerflow-infra`` and the
service launcher hand the local issuer to the services."""

from __future__ import annotations

import json
import shlex
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from dealerflow.devinfra import auth_cli, cli, services
from dealerflow.devinfra.config import find_repo_root, resolve_config
from dealerflow.devinfra.issuer import DevIssuer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = auth_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[DevIssuer, str]]:
    """The test profile's issuer under tmp_path, its JWKS served on a free port."""
    issuer = DevIssuer.for_profile("test", home=tmp_path)
    server = auth_cli.make_server(issuer, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def decode_served(base_url: str, token: str, issuer: str) -> dict[str, Any]:
    """What a service does with an HTTP JWKS URL: PyJWKClient, pinned algorithms."""
    with urllib.request.urlopen(base_url + "/.well-known/openid-configuration") as response:
        discovery = json.load(response)
    client = jwt.PyJWKClient(discovery["jwks_uri"], cache_jwk_set=False)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key.key, algorithms=["ES256", "RS256"], audience="dealerflow", issuer=issuer
    )
    return dict(claims)


def test_token_prints_one_token_with_the_asked_claims(
    capsys: pytest.CaptureFixture[str], served: tuple[DevIssuer, str], tmp_path: Path
) -> None:
    issuer, base_url = served
    code, out, err = run(
        capsys,
        *("token", "--profile", "test", "--home", str(tmp_path)),
        *("--dealer", "D001", "--dealer", "D002", "--dealer", "D001"),
        *("--role", "sales-manager", "--role", "GM", "--sub", "m-zhou"),
        *("--ttl", "600", "--group", "east"),
    )
    assert (code, err) == (0, "")
    (token,) = out.splitlines()
    claims = decode_served(base_url, token, "https://issuer.dealerflow.local/test")
    assert claims["sub"] == "m-zhou"
    assert claims["roles"] == ["sales_manager", "gm"]  # normalised
    assert claims["dealers"] == ["D001", "D002"]
    assert claims["dealer_group"] == "east"
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(token)["kid"] == issuer.current_kid


def test_token_defaults_and_refusals(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = ("--home", str(tmp_path))
    code, out, _ = run(capsys, "token", *home, "--dealer", "D001", "--role", "consultant")
    assert code == 0
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert (claims["sub"], claims["iss"]) == (
        "dev-consultant",
        "https://issuer.dealerflow.local/dev",
    )
    assert claims["exp"] - claims["iat"] == 3600
    with pytest.raises(SystemExit) as exit_info:
        auth_cli.main(["token", *home, "--dealer", "D001", "--role", "janitor"])
    assert exit_info.value.code == 2
    assert "unknown role 'janitor'" in capsys.readouterr().err
    code, out, err = run(capsys, "token", *home, "--role", "gm")
    assert (code, out) == (1, "")
    assert err == "dealerflow-auth: error: name at least one --dealer (or a --group)\n"
    code, _, err = run(capsys, "token", *home, "--dealer", "D001", "--role", "gm", "--ttl", "0")
    assert code == 1
    assert "--ttl" in err


def test_jwks_prints_the_url_the_path_or_the_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    issuer = DevIssuer.for_profile("test", home=tmp_path)
    common = ("--profile", "test", "--home", str(tmp_path))
    assert run(capsys, "jwks", *common) == (0, issuer.jwks_url + "\n", "")
    assert run(capsys, "jwks", *common, "--path") == (0, f"{issuer.jwks_path}\n", "")
    code, out, _ = run(capsys, "jwks", *common, "--show")
    assert code == 0
    assert json.loads(out) == issuer.jwks()
    assert issuer.jwks_path.exists()  # created on first use


def test_rotate_prints_the_new_kid_and_retire_the_dropped_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    issuer = DevIssuer.for_profile("dev", home=tmp_path)
    first = issuer.ensure()
    code, out, _ = run(capsys, "rotate", "--home", str(tmp_path))
    assert code == 0
    assert out.strip() == issuer.current_kid != first
    assert issuer.published_kids == [out.strip(), first]
    assert run(capsys, "rotate", "--retire", "--home", str(tmp_path)) == (0, first + "\n", "")
    assert run(capsys, "rotate", "--retire", "--home", str(tmp_path)) == (
        0,
        "",
        "nothing to retire\n",
    )


def test_serve_answers_discovery_and_a_rotated_jwks(served: tuple[DevIssuer, str]) -> None:
    issuer, base_url = served
    with urllib.request.urlopen(base_url + "/.well-known/openid-configuration") as response:
        discovery = json.load(response)
    assert discovery["issuer"] == issuer.issuer
    assert discovery["jwks_uri"] == base_url + "/jwks.json"
    assert discovery["id_token_signing_alg_values_supported"] == ["ES256"]
    before = issuer.token(sub="s", roles=["admin"], dealers=["*"])
    issuer.rotate()
    after = issuer.token(sub="s", roles=["admin"], dealers=["*"])
    with urllib.request.urlopen(base_url + "/.well-known/jwks.json") as response:
        assert len(json.load(response)["keys"]) == 2  # no restart needed
    for token in (before, after):
        assert decode_served(base_url, token, issuer.issuer)["dealers"] == ["*"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base_url + "/token")
    assert missing.value.code == 404


def test_dealerflow_auth_is_a_console_script_of_devinfra() -> None:
    root = find_repo_root()
    assert root is not None
    project = tomllib.loads((root / "libs/devinfra/pyproject.toml").read_text())["project"]
    assert project["scripts"]["dealerflow-auth"] == "dealerflow.devinfra.auth_cli:main"


def test_infra_env_points_services_at_the_profiles_issuer(tmp_path: Path) -> None:
    cfg = resolve_config("test", env={}, home=tmp_path)
    jwks = (tmp_path.resolve() / "test" / "auth" / "jwks.json").as_uri()
    assert cli.env_lines(cfg) == [
        "export DEALERFLOW_KAFKA_BOOTSTRAP=127.0.0.1:19092",
        "export DEALERFLOW_PG_DSN=postgresql://dealerflow_app:dealerflow_app@127.0.0.1:15432/dealerflow",
        "export DEALERFLOW_PG_MIGRATION_DSN=postgresql://postgres@127.0.0.1:15432/dealerflow",
        "export DEALERFLOW_PG_APP_ROLE=dealerflow_app",
        "export DEALERFLOW_UNKNOWN_DEALERS=defaults",
        "export DEALERFLOW_AUTH_ISSUER=https://issuer.dealerflow.local/test",
        "export DEALERFLOW_AUTH_AUDIENCE=dealerflow",
        f"export DEALERFLOW_AUTH_JWKS_URL={jwks}",
    ]


def test_the_dev_profiles_env_sets_the_notifier_drivers(tmp_path: Path) -> None:
    dev = cli.env_lines(resolve_config("dev", env={}, home=tmp_path))
    drivers = services.DEV_CHANNEL_ENV["DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS"]
    assert f"export DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS={shlex.quote(drivers)}" in dev
    assert "export DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER=recording" in dev


def test_infra_up_creates_the_issuer_key(tmp_path: Path) -> None:
    cfg = resolve_config("dev", env={}, home=tmp_path)
    assert cli.up(cfg, components=()) == []  # no servers: only the key
    issuer = DevIssuer.for_config(cfg)
    assert issuer.jwks_path.exists()
    kid = issuer.current_kid
    cli.up(cfg, components=())
    assert DevIssuer.for_config(cfg).current_kid == kid  # kept, not replaced


def test_the_stack_hands_its_auth_settings_to_every_service(tmp_path: Path) -> None:
    issuer = DevIssuer.for_profile("test", home=tmp_path)
    parent = {"DEALERFLOW_AUTH_ISSUER": "https://from-parent", "PATH": "/bin"}
    inherited = services.StackConfig(kafka_bootstrap="k:9092", pg_dsn="postgresql://x")
    spec = services.SERVICES[1]
    assert inherited.environment(spec, parent)["DEALERFLOW_AUTH_ISSUER"] == "https://from-parent"
    stack = services.StackConfig(
        kafka_bootstrap="k:9092",
        pg_dsn="postgresql://x",
        auth_env=issuer.environment(),
        extra_env={"DEALERFLOW_AUTH_AUDIENCE": "override-wins"},
    )
    for spec in services.SERVICES:
        env = stack.environment(spec, parent)
        assert env["DEALERFLOW_AUTH_ISSUER"] == "https://issuer.dealerflow.local/test"
        assert env["DEALERFLOW_AUTH_JWKS_URL"] == issuer.jwks_url
        assert env["DEALERFLOW_AUTH_AUDIENCE"] == "override-wins"
        assert env["PATH"] == "/bin"
