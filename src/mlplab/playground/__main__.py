"""``python -m mlplab.playground [--host 127.0.0.1] [--port 8765] [--no-browser]``."""
import argparse
import sys

from . import add_arguments, main

parser = argparse.ArgumentParser(prog="python -m mlplab.playground",
                                 description="mlplab's playground: a local web page.")
add_arguments(parser)
sys.exit(main(parser.parse_args()))
