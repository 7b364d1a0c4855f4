"""dealerflow leads service"""
