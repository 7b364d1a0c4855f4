"""``dealerflow-auth``: the local token issuer's command line (see ``devinfra.issuer``).

dealerflow-auth token --dealer D001 --role consultant [--sub consultant-li] [--ttl 3600]
                      [--dealer ...] [--role ...] [--group G] [--audience A] [--profile dev|test]
dealerflow-auth jwks    [--path | --show]     # the JWKS URL (default), its path, or the document
dealerflow-auth rotate  [--retire]            # a new current key / drop the earlier keys
dealerflow-auth serve   [--host H] [--port P] # the JWKS and discovery document over HTTP

Keys are created on first use under ``<home>/<profile>/auth/``. ``token`` prints only the
token, so ``TOKEN=$(uv run dealerflow-auth token ...)`` works.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from dealerflow.devinfra.config import PROFILES, InfraError
from dealerflow.devinfra.issuer import ALGORITHM, DEFAULT_AUDIENCE, STAFF_ROLES, DevIssuer

DEFAULT_PORT = 8089

JWKS_PATHS = ("/jwks.json", "/.well-known/jwks.json")
DISCOVERY_PATH = "/.well-known/openid-configuration"


def normalise_role(name: str) -> str:
    """``sales-manager`` -> ``sales_manager``; unknown names are refused (typos)."""
    role = name.strip().lower().replace("-", "_")
    if role not in STAFF_ROLES:
        raise argparse.ArgumentTypeError(
            f"unknown role {name!r}; use one of {', '.join(STAFF_ROLES)}"
        )
    return role


def discovery_document(issuer: DevIssuer, base_url: str) -> dict[str, Any]:
    """A minimal OpenID Provider metadata document pointing at the served JWKS.

    ``issuer`` is the tokens' ``iss`` (what the services check), not the serving URL:
    this server only publishes keys, it has no authorization or token endpoint.
    """
    return {
        "issuer": issuer.issuer,
        "jwks_uri": base_url + JWKS_PATHS[0],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "exp",
            "nbf",
            "iat",
            "roles",
            "dealers",
            "dealer_group",
        ],
    }


def make_server(issuer: DevIssuer, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server (not started) answering the JWKS and discovery paths; port 0 picks
    a free port (``server.server_port`` says which)."""
    issuer.ensure()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in JWKS_PATHS:
                # Read per request: a rotation shows without restarting the server.
                self._json(issuer.jwks())
            elif path == DISCOVERY_PATH:
                # The address the client used, so a container reaching us by another
                # name gets a jwks_uri it can fetch.
                bound_port = cast(HTTPServer, self.server).server_port
                authority = self.headers.get("Host") or f"{host}:{bound_port}"
                self._json(discovery_document(issuer, f"http://{authority}"))
            else:
                self._json({"error": "not_found", "paths": [*JWKS_PATHS, DISCOVERY_PATH]}, 404)

        def _json(self, body: dict[str, Any], status: int = HTTPStatus.OK) -> None:
            data = json.dumps(body, indent=2).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "max-age=60")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"dealerflow-auth serve: {format % args}\n")

    return ThreadingHTTPServer((host, port), Handler)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", choices=PROFILES, default="dev", help="default dev")
    common.add_argument(
        "--home", type=Path, help="state root (default $DEALERFLOW_HOME or <repo>/.dealerflow)"
    )
    parser = argparse.ArgumentParser(
        prog="dealerflow-auth",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_token = sub.add_parser("token", parents=[common], help="print a signed bearer token")
    p_token.add_argument(
        "--dealer",
        action="append",
        default=[],
        help="a dealer id the token acts for (repeatable; '*' = every dealer)",
    )
    p_token.add_argument(
        "--role",
        action="append",
        type=normalise_role,
        required=True,
        help=f"repeatable; one of {', '.join(STAFF_ROLES)} (hyphens accepted)",
    )
    p_token.add_argument("--sub", help="staff id (default dev-<first role>)")
    p_token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    p_token.add_argument("--group", help="a dealer group the token acts for (dealer_group)")
    p_token.add_argument("--audience", default=DEFAULT_AUDIENCE)

    p_jwks = sub.add_parser("jwks", parents=[common], help="print the JWKS URL")
    shown = p_jwks.add_mutually_exclusive_group()
    shown.add_argument("--path", action="store_true", help="print the file path instead")
    shown.add_argument("--show", action="store_true", help="print the JWKS document")

    p_rotate = sub.add_parser("rotate", parents=[common], help="make a new signing key current")
    p_rotate.add_argument(
        "--retire",
        action="store_true",
        help="instead: drop every key but the current one from the JWKS",
    )

    p_serve = sub.add_parser("serve", parents=[common], help="serve the JWKS over HTTP")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    return parser


def _run(args: argparse.Namespace) -> int:
    issuer = DevIssuer.for_profile(args.profile, home=args.home)
    if args.command == "token":
        if not args.dealer and not args.group:
            raise InfraError("name at least one --dealer (or a --group)")
        if args.ttl <= 0:
            raise InfraError("--ttl must be a positive number of seconds")
        roles = list(dict.fromkeys(args.role))
        print(
            issuer.token(
                sub=args.sub or f"dev-{roles[0].replace('_', '-')}",
                roles=roles,
                dealers=list(dict.fromkeys(args.dealer)),
                dealer_group=args.group,
                ttl_s=args.ttl,
                audience=args.audience,
            )
        )
        return 0
    if args.command == "jwks":
        if args.show:
            print(json.dumps(issuer.jwks(), indent=2))
        else:
            issuer.ensure()
            print(issuer.jwks_path if args.path else issuer.jwks_url)
        return 0
    if args.command == "rotate":
        if args.retire:
            retired = issuer.retire()
            for kid in retired:
                print(kid)
            if not retired:
                print("nothing to retire", file=sys.stderr)
        else:
            print(issuer.rotate())
        return 0
    if args.command == "serve":
        server = make_server(issuer, args.host, args.port)
        base_url = f"http://{args.host}:{server.server_port}"
        print(f"JWKS       {base_url}{JWKS_PATHS[0]}", file=sys.stderr)
        print(f"discovery  {base_url}{DISCOVERY_PATH}", file=sys.stderr)
        print(f"issuer     {issuer.issuer}", file=sys.stderr)
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return 0
    raise AssertionError(args.command)  # argparse rejects unknown commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dealerflow-auth``; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InfraError as exc:
        print(f"dealerflow-auth: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
