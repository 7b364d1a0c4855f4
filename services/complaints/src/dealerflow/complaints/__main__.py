"""``dealerflow-complaints migrate|serve|openapi``."""

from dealerflow.complaints.app import DEFINITION
from dealerflow.runtime.service import main_for

main = main_for(DEFINITION)

if __name__ == "__main__":
    main()
