"""dealerflow local infrastructure.

Native Apache Kafka (KRaft) and PostgreSQL without Docker (``dealerflow-infra``), topic
creation, and the pytest fixtures that hand tests real servers.
"""
