"""Pinned versions of the local infrastructure, in one place.

The native runner, the test fixtures (testcontainers), docker-compose.yml and the CI
script all take their versions from here; a test checks that the compose file agrees.
"""

from __future__ import annotations

from typing import Final

KAFKA_VERSION: Final = "4.1.1"
KAFKA_SCALA_BINARY: Final = "2.13"
LOG4J_VERSION: Final = "2.24.3"
SLF4J_VERSION: Final = "2.0.17"
MAVEN_DEPENDENCY_PLUGIN_VERSION: Final = "3.8.1"

POSTGRES_MAJOR: Final = 15

KAFKA_IMAGE: Final = f"apache/kafka:{KAFKA_VERSION}"
POSTGRES_IMAGE: Final = "postgres:15.14"
#: The optional identity provider of docker-compose.yml (profile ``keycloak``).
KEYCLOAK_IMAGE: Final = "quay.io/keycloak/keycloak:26.4.7"
