"""dealerflow service-center service"""
