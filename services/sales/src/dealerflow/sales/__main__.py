"""``dealerflow-sales migrate|serve|openapi``."""

from __future__ import annotations

from dealerflow.runtime.service import main_for
from dealerflow.sales.app import DEFINITION

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
