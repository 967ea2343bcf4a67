"""playground: `chainrule playground`, a live web page over the real engine.

- tab.py: one browser tab's session and the requests it answers (JSON in, JSON out),
  with no web framework, so a page running Python itself can drive it too;
- server.py: the Starlette app over it (the page, its files, one websocket per tab);
- security.py: the token, Host and Origin checks in front of every request;
- network.py: one tab's network (settings and limits, training steps, the JSON the
  page draws, the dC/dw and delta derivations read from the engine);
- expression.py: the expression tab (autograd_core/expr.py's parser, visualize.explain's
  step lines);
- static/: the page itself (HTML, CSS, JavaScript); it draws everything client-side.

Needs the `playground` extra (Starlette, uvicorn, websockets); the command says so
when they are missing.
"""
