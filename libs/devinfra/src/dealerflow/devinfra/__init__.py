"""dealerflow local infrastructure: native Apache Kafka (KRaft) and PostgreSQL without Docker, and pytest fixtures"""
