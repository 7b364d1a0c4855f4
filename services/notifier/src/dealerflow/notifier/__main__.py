"""``dealerflow-notifier migrate|serve|openapi``."""

from __future__ import annotations

from dealerflow.notifier.app import DEFINITION
from dealerflow.runtime.service import main_for

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
