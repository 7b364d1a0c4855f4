"""dealerflow dealers service: the one owner of dealer configuration"""
