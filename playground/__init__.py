"""playground: `chainrule playground`, a live web page over the real engine.

- server.py: the Starlette app (the page, its files, one websocket per browser tab);
- security.py: the token, Host and Origin checks in front of every request;
- network.py: one tab's network (settings and limits, training steps, the JSON the
  page draws, the dC/dw and delta derivations read from the engine);
- expression.py: the expression tab (chainrule/expr.py's parser, the CLI's step lines);
- static/: the page itself (HTML, CSS, JavaScript); it draws everything client-side.

Needs the `playground` extra (Starlette, uvicorn, websockets); the command says so
when they are missing.
"""
