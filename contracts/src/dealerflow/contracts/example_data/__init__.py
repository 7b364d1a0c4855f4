"""Data of `dealerflow.contracts.examples`, split by lifecycle stage."""
