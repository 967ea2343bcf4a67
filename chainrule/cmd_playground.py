"""chainrule playground: the live web page (the playground/ package) on a local server."""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import socket
import sys
import threading
import webbrowser

from .errors import fail

EXAMPLES = """\
examples:
  chainrule playground                      serve on 127.0.0.1, open the browser
  chainrule playground --port 8765 --no-browser
  chainrule playground --host 0.0.0.0       a whole classroom (prints a warning; the
                                            token is still needed)

The address printed holds an access token, as Jupyter's does: share it only with the
people who may use the page. Ctrl-C stops the server.
"""

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers):
    parser = subparsers.add_parser(
        "playground", help="a live web page: train a network, click any weight",
        description="Start a local web server with the playground: watch a network learn "
                    "and ask any weight where its gradient came from; differentiate typed "
                    "expressions step by step.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=_port, default=8765,
                        help="port to listen on (default 8765; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the address but do not open a browser")
    parser.set_defaults(run=run)
    return parser


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-65535")
    return port


def _bind(host, port):
    """A listening socket, so the port is known (also for --port 0) before printing."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(infos[0][4])
    except socket.gaierror:
        raise OSError(f"--host {host}: no such address on this machine") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(args) -> int:
    # The tabs' training runs numpy's BLAS on small matrices: one thread each, as
    # `chainrule train` does (a threaded BLAS on a busy machine made a step 250 x slower).
    from nn.blas_threads import set_blas_threads
    from nn.c_allocator import keep_freed_memory
    set_blas_threads(1)
    keep_freed_memory()  # the tabs train on numpy batches (nn/c_allocator.py)
    try:
        import uvicorn
        from playground.server import create_app
    except ImportError as error:
        return fail(f"the playground needs Starlette and uvicorn ({error.name} is missing); "
                    "install them with: pip install 'chainrule[playground]'")
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        reason = error.strerror or str(error)
        return fail(f"cannot listen on {args.host}:{args.port}: {reason}; "
                    "choose another --port (or --port 0 for any free one)")
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/?token={token}"
    if not _is_loopback(args.host):
        print(f"chainrule: warning: listening on {args.host}, so other machines can reach "
              "the playground; anyone with the address below (it holds the token) can use "
              "it", file=sys.stderr)
    print("chainrule playground is running; open this address (Ctrl-C stops it):")
    print(f"    {url}", flush=True)
    if args.host in ("0.0.0.0", "::"):
        print(f"from other machines: http://<this machine's address>:{port}/?token={token}",
              flush=True)
    app = create_app(token, args.host, port)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=2 * 1024 * 1024,
                            lifespan="off")
    server = uvicorn.Server(config)
    if not args.no_browser:
        # After the server is up, so the first page load cannot be refused.
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raises Ctrl-C for the caller
    print("chainrule playground stopped.", flush=True)
    return 0


def _is_loopback(host):
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
