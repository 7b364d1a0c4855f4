"""dealerflow event contracts: models, CloudEvents envelope, topic registry, inbound leads"""
