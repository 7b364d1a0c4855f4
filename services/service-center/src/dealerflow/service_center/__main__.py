"""``dealerflow-service-center migrate|serve|openapi``."""

from __future__ import annotations

from dealerflow.runtime.service import main_for
from dealerflow.service_center.app import DEFINITION

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
