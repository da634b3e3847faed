import sys

from . import main

if __name__ == "__main__":  # a worker started through multiprocessing imports this module too
    sys.exit(main(sys.argv[1:]))
