"""dealerflow event contracts: models, CloudEvents envelope, topic registry, inbound leads.

Modules:
- `events`    pydantic models of every event, one discriminated union per topic
- `registry`  ce_type -> event class
- `envelope`  CloudEvents 1.0 Kafka binding (binary and structured mode)
- `topics`    topic names under a configurable prefix
- `identity`  the customer id rule and phone normalisation
- `examples`  a valid example of every event
- `inbound`   lead submissions from outside (JSON or ADF 1.0 XML)
- `tools`     generators of the committed artifacts and the compatibility gate (development
              only, not in the wheel)
"""
