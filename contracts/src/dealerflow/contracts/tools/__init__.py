"""Repository tools for the contract, used by developers and tests, never by a service.

- `schemas`    JSON Schema (2020-12) of every event
- `asyncapi`   the AsyncAPI 3.0 document
- `eventdocs`  docs/events.md
- `compat`     the backward-compatibility comparator
- `generate`   ``python -m dealerflow.contracts.tools.generate [--check|--release]``

They write into a source checkout, so the contracts wheel leaves them out (see
contracts/pyproject.toml): no service or runtime module imports them, and no image has them.
"""
