pytest_plugins = ["dealerflow.devinfra.pytest_plugin"]
