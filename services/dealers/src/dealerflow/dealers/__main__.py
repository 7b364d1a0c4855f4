"""``dealerflow-dealers migrate|serve|openapi``."""

from dealerflow.dealers.app import DEFINITION
from dealerflow.runtime.service import main_for

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
