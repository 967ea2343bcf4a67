"""One derivation for slides: the chain-rule steps as LaTeX, the backward pass as frames.

`derivation_latex` writes the narrated steps (visualize.explain) as an `align*`
environment; `backward_frames` draws the graph once per step (the edge in use red, the
gradients filled in so far), as SVG text; `write_frames` saves them as numbered SVG
files and `write_gif` as one animated GIF (needs Pillow: pip install pillow).
The LaTeX helpers (`latex_name`, `latex_formula`, `latex_number`) are shared with the
worksheets, so a name or a number is typeset one way everywhere.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata

from autograd_core import Value
from autograd_core.files import write_bytes
from autograd_core.ops import expression_functions

from .graph import _escape_text, dot_binary, draw_graph
from .explain import DIGITS, Derivation, format_number, kept_grads, narrate

__all__ = ["latex_name", "latex_number", "latex_formula", "derivation_latex",
           "shown_grads", "backward_frames", "write_frames", "write_gif"]

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$",
            "%": r"\%", "&": r"\&", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}

# Greek letters as math-mode commands (a student's λ is \lambda on the slide); capitals
# that look like Latin ones have no command of their own and are set upright, as LaTeX
# sets \Gamma.
_GREEK = dict(zip("αβγδεζηθικλμνξοπρςστυφχψω",
                  r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa "
                  r"\lambda \mu \nu \xi o \pi \rho \varsigma \sigma \tau \upsilon \varphi "
                  r"\chi \psi \omega".split()))
_GREEK.update(zip("ϵϑϕϖϱϰµ", r"\epsilon \vartheta \phi \varpi \varrho \varkappa \mu".split()))
_GREEK.update(zip("ΓΔΘΛΞΠΣΥΦΨΩ", r"\Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Upsilon "
                                 r"\Phi \Psi \Omega".split()))
_GREEK.update({capital: rf"\mathrm{{{latin}}}"
               for capital, latin in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")})
# Accents pdflatex sets in text mode with its default font encoding (OT1), by the
# combining mark that follows the letter in Unicode's decomposition (é = e + U+0301).
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=",
            "\u0306": "u", "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H",
            "\u030c": "v", "\u0323": "d", "\u0327": "c"}
_LETTERS = {"ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "ø": r"\o{}", "Ø": r"\O{}",
            "œ": r"\oe{}", "Œ": r"\OE{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}"}
_NAME = re.compile(r"([^\W\d_]+)(?:_?(\d+))?")


def _text_character(ch: str) -> str:
    """One character inside \\text{...}, as something pdflatex compiles."""
    if " " <= ch <= "~":
        return _SPECIAL.get(ch, ch)
    if ch in _GREEK:
        return f"${_GREEK[ch]}$"
    if ch in _LETTERS:
        return _LETTERS[ch]
    base, *marks = unicodedata.normalize("NFD", ch)
    if "a" <= base.lower() <= "z":  # é, ü, ñ, ç: the letter with its accents (others dropped)
        for mark in marks:
            if mark in _ACCENTS:
                base = rf"\{_ACCENTS[mark]}{{{base}}}"
        return base
    # No glyph in pdflatex's standard fonts (中, an emoji, a control character): its code.
    return rf"\textsf{{[U+{ord(ch):04X}]}}"


def _text(text: str) -> str:
    """Any text inside \\text{...}: special characters escaped, Greek letters in math,
    accented letters with LaTeX accents, anything else by its code point."""
    return "".join(_text_character(ch) for ch in text)


def latex_name(name: str) -> str:
    """A node's name in math mode: w, n_{1}, w_{12}, \\mathrm{net}, \\lambda, \\theta_{2},
    else \\text{...}."""
    constant = re.fullmatch(r"\((-?\d[\d.]*(?:e-?\d+)?)\)", name)
    if constant:  # a constant's name is its value in brackets: typeset the number
        number = latex_number(float(constant.group(1)))
        return f"({number})" if number.startswith("-") else number
    match = _NAME.fullmatch(name)
    if match and all(ch.isascii() or ch in _GREEK for ch in match.group(1)):
        letters, number = match.groups()
        symbols = [_GREEK.get(ch, ch) for ch in letters]
        if len(symbols) == 1:
            head = symbols[0]
        else:  # a space ends a command before the next letter: \lambda x, not \lambdax
            word = "".join(s + " " if s.startswith("\\") else s for s in symbols).rstrip()
            head = rf"\mathrm{{{word}}}"
        return f"{head}_{{{number}}}" if number else head
    return rf"\text{{{_text(name)}}}"


def latex_number(x: float, digits: int = DIGITS) -> str:
    """format_number's text in math mode: 6.1e-6 as 6.1 \\times 10^{-6}."""
    text = format_number(x, digits)
    mantissa, e, exponent = text.partition("e")
    if e:
        text = rf"{mantissa} \times 10^{{{exponent}}}"
    return text


_TOKEN = re.compile(r"\s*(\*\*|[^\W\d]\w*|\d+\.?\d*(?:e-?\d+)?|\S)")


def latex_formula(formula: str, names=()) -> str:
    """A formula in the nodes' names ('L * (1 - L)', 'n * a**(n - 1)') in math mode.

    Tokens that are node names become latex_name; '*' a \\cdot; '**' an exponent; the op
    table's functions (sin, or one a user declared) \\operatorname. Names that are not
    identifiers (a label like '(w*x)') are looked up whole first.
    """
    names = sorted(set(names), key=len, reverse=True)
    functions = expression_functions()  # read now: a function declared later counts too
    out, i = [], 0
    while i < len(formula):
        while i < len(formula) and formula[i] == " ":
            i += 1
        for name in names:  # a label such as (w*x) is one symbol, whatever is inside
            if not name.isidentifier() and formula.startswith(name, i):
                out.append(latex_name(name))
                i += len(name)
                break
        else:
            match = _TOKEN.match(formula, i)
            if not match:
                break
            token, i = match.group(1), match.end()
            if token == "**":
                out.append("^")
                if formula[i:].lstrip().startswith("("):
                    depth, start = 0, formula.index("(", i)
                    for j in range(start, len(formula)):
                        depth += {"(": 1, ")": -1}.get(formula[j], 0)
                        if depth == 0:
                            break
                    out.append("{" + latex_formula(formula[start + 1:j], names) + "}")
                    i = j + 1
                else:
                    match = _TOKEN.match(formula, i)
                    out.append("{" + latex_formula(match.group(1), names) + "}")
                    i = match.end()
            elif token == "*":
                out.append(r"\cdot")
            elif token in functions:
                out.append(rf"\operatorname{{{token}}}")
            elif token in ("if", "else"):
                out.append(rf"\text{{ {token} }}")
            elif token[0].isalpha() or token[0] == "_":
                out.append(latex_name(token))
            else:
                out.append(_SPECIAL.get(token, token))
    return " ".join(out)


def _partial(top, bottom, total=False):
    d = "d" if total else r"\partial "
    return rf"\frac{{{d}{latex_name(top)}}}{{{d}{latex_name(bottom)}}}"


def _factor(x, digits):
    text = latex_number(x, digits)
    return f"({text})" if text.startswith("-") else text


def derivation_latex(root, digits: int = DIGITS, passes: int = 1) -> str:
    """The chain-rule steps of root's backward pass as a LaTeX align* environment.

    One line per step, `dL/dparent = dL/dnode * ∂node/∂parent = numbers`, with the
    local derivative's formula beside it; the legend of names first. Needs amsmath.
    `root` may be a Value (its grads are left as they were) or a Derivation.
    """
    derivation = _derivation(root, passes)
    names = list(derivation.names.values())
    lines = []
    for row, (name, text) in enumerate(derivation.legend):
        lines.append(("&\\text{where } " if row == 0 else "& ") + f"{latex_name(name)} = "
                     f"{latex_formula(text, names)} \\\\")
    r = derivation.root_name
    for step in derivation.steps:
        eq = r"\mathrel{+}=" if step.accumulates else "="
        lines.append(
            f"{_partial(r, step.parent_name, True)} &{eq} {_partial(r, step.node_name, True)}"
            rf" \cdot {_partial(step.node_name, step.parent_name)}"
            rf" = {_factor(step.upstream, digits)} \cdot {_factor(step.local, digits)}"
            f" = {latex_number(step.contribution, digits)}"
            rf" && {_partial(step.node_name, step.parent_name)} = "
            f"{latex_formula(step.formula, names)} \\\\")
    if lines:
        lines[-1] = lines[-1][:-2].rstrip()
    return "\\begin{align*}\n" + "\n".join(lines) + "\n\\end{align*}\n"


def _derivation(root, passes=1) -> Derivation:
    if isinstance(root, Derivation):
        return root
    if not isinstance(root, Value):
        raise TypeError(f"needs a Value or a Derivation, got {type(root).__name__}")
    with kept_grads(root):
        return narrate(root, passes=passes)


def shown_grads(derivation: Derivation, k: int, digits: int = DIGITS) -> dict:
    """{node: grad text} as the page shows it after the first k steps: blank before a
    node's first step; a new pass restarts the results but the leaves keep theirs."""
    shown, current_pass = {}, 0
    for step in derivation.steps[:k]:
        if step.pass_number != current_pass:
            current_pass = step.pass_number
            shown = {v: text for v, text in shown.items() if not v.parents}
            shown[derivation.root] = format_number(1.0, digits)
        shown[step.parent] = format_number(step.after, digits)
    return {v: shown.get(v, "") for v in derivation.order}


def backward_frames(root: Value, passes: int = 1, digits: int = DIGITS, rankdir="LR",
                    format: str = "svg"):
    """The backward pass as pictures: frame 0 the forward pass, then one per step.

    Each frame is draw_graph's picture with the gradients known so far and the step's
    edge drawn red; returns a list of SVG texts (format="svg") or PNG bytes ("png").
    Leaves the graph's grads as they were.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"backward_frames: format must be svg or png, got {format!r}")
    dot_binary()
    derivation = _derivation(root, passes)
    frames = []
    for k in range(len(derivation.steps) + 1):
        step = derivation.steps[k - 1] if k else None
        picture = draw_graph(derivation.root, rankdir=rankdir, digits=digits,
                             grads=shown_grads(derivation, k, digits), highlight=step)
        if step is not None:
            note = f"step {k} / {len(derivation.steps)}: {step.line(digits)}"
            if derivation.passes > 1:
                note = f"backward() call {step.pass_number}, " + note
        else:
            note = "step 0: the forward pass, no gradient yet"
        picture.attr(label=_escape_text(note) + "\\l" + picture.graph_attr.get(
            "label", ""), labelloc="b", labeljust="l")
        data = picture.pipe(format=format, quiet=True)
        frames.append(data.decode("utf-8") if format == "svg" else data)
    return frames


def write_frames(root: Value, folder, passes: int = 1, digits: int = DIGITS) -> list:
    """Write frame_000.svg, frame_001.svg, ... into `folder` (created if missing, its
    parent must exist); return their paths."""
    folder = os.fspath(folder)
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"write_frames: the folder {parent!r} does not exist; "
                                "create it first")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileExistsError(f"write_frames: {folder!r} is a file; give a folder name")
    frames = backward_frames(root, passes, digits)
    os.makedirs(folder, exist_ok=True)
    width = max(3, len(str(len(frames) - 1)))
    paths = []
    for k, svg in enumerate(frames):
        path = os.path.join(folder, f"frame_{k:0{width}d}.svg")
        write_bytes(path, svg.encode("utf-8"))
        paths.append(path)
    return paths


def write_gif(root: Value, path, passes: int = 1, digits: int = DIGITS,
              seconds_per_frame: float = 1.5) -> str:
    """The backward pass as one animated GIF, one frame per step; needs Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("an animated GIF needs Pillow: pip install pillow "
                          "(or write SVG frames, which need nothing more)") from None
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"write_gif: the folder {folder!r} does not exist; "
                                "create it first")
    images = [Image.open(io.BytesIO(png)).convert("RGB")
              for png in backward_frames(root, passes, digits, format="png")]
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    frames = []
    for im in images:  # every frame on one canvas size, anchored top left
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, (0, 0))
        frames.append(canvas.quantize(colors=128))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=int(seconds_per_frame * 1000), loop=0)
    write_bytes(path, buffer.getvalue())
    return path
