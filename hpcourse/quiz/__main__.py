"""``python -m hpcourse.quiz --level medium --topic learning_rate [--n 5] [--seed 0]``."""

import sys

from hpcourse.quiz.terminal import main

if __name__ == "__main__":
    sys.exit(main())
