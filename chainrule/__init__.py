"""chainrule: the command line and the teaching material around the engine.

The engine is `autograd_core`, networks are `nn`, pictures are `visualize`.
"""
