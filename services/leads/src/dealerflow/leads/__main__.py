"""``dealerflow-leads migrate|serve|openapi``."""

from dealerflow.leads.app import DEFINITION
from dealerflow.runtime.service import main_for

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
