"""dealerflow shared runtime: settings, logging, database, migrations, outbox, inbox, timers,
dead letters, broker and HTTP factories
"""
