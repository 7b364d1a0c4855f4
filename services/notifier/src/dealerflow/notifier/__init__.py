"""dealerflow notifier service"""
