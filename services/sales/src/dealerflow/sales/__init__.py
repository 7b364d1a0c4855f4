"""dealerflow sales service"""
