"""The playground: a local web page where mlplab's own ``Sequential`` learns the TensorFlow
Playground's data sets (or an uploaded CSV) while the page draws it, one epoch per frame.

    mlplab playground            # or: python -m mlplab.playground
    pip install "mlplab[playground]"   # Starlette, uvicorn, websockets

Modules: :mod:`~mlplab.playground.setup` (the settings, their limits, data, model, the
exported snippet), :mod:`~mlplab.playground.session` (one tab's training and its frames),
:mod:`~mlplab.playground.server` (the ASGI app and its WebSocket); ``static/`` is the page.
Importing this package needs no web server; ``server`` does.
"""


def add_arguments(parser) -> None:
    """The command line's options (shared by ``mlplab playground`` and ``python -m``)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: loopback only; another one "
                             "exposes the page to the network and prints a warning)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the URL without opening a browser")


def main(args) -> int:
    """Run the server for parsed ``args`` (host, port, no_browser); 2 without the extra."""
    import sys

    try:
        from .server import serve
    except ImportError as exc:
        print(f"mlplab playground: needs the playground extra ({exc.name} is not installed): "
              f'pip install "mlplab[playground]"', file=sys.stderr)
        return 2
    return serve(args.host, args.port, open_browser=not args.no_browser)
