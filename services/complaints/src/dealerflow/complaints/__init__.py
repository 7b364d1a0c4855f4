"""dealerflow complaints service"""
