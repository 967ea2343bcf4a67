"""The page's number formatter (playground/static/numbers.js) is format_number's browser
twin: run through node, it writes every awkward number as autograd_core.numbers does."""

import json
import math
import pathlib
import random
import shutil
import subprocess

import pytest

from autograd_core.numbers import format_number

NUMBERS_JS = pathlib.Path(__file__).resolve().parents[2] / "playground" / "static" / "numbers.js"

# JSON has no NaN, infinity or -0: they travel as words
_RUN = """
const N = require(process.argv[1]);
const word = {nan: NaN, inf: Infinity, "-inf": -Infinity, "-0": -0};
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(([x, d]) => N.formatNumber(x in word ? word[x] : x, d))));
"""

AWKWARD = [0.0, -0.0, 1e-6, -1e-6, 123456789.0, 0.00012345, 1e-5, 0.0001, 0.001234,
           1e300, -1e300, 5e-324, 1.7976931348623157e308, 0.015625, 0.125, 2.5, 0.5,
           9.9996, 99999.0, 99995.0, 1234.0, 12345.0, 0.1175, 6.1445e-6, -6.144e-6,
           1 / 3, -2 / 3, 1.0, -1.0, 10.0, 100.0, 1e4, 1e5, 123.456, math.pi,
           math.nan, math.inf, -math.inf]


def _js_format(cases):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    words = {"nan": "nan", "inf": "inf", "-inf": "-inf"}
    sent = [[words[format_number(x)] if not math.isfinite(x)
             else "-0" if x == 0 and math.copysign(1, x) < 0 else x, d] for x, d in cases]
    done = subprocess.run([node, "-e", _RUN, str(NUMBERS_JS)], input=json.dumps(sent),
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_numbers_js_writes_the_awkward_numbers_as_format_number_does():
    cases = [(x, d) for x in AWKWARD for d in (1, 2, 3, 4, 5, 6, 8)]
    cases += [(x, None) for x in AWKWARD]  # the default figures, DIGITS
    expected = [format_number(x) if d is None else format_number(x, d) for x, d in cases]
    assert _js_format(cases) == expected


def test_numbers_js_agrees_on_seeded_random_numbers_and_ties():
    rng = random.Random(0)
    numbers = [rng.uniform(-1, 1) * 10 ** rng.randint(-9, 9) for _ in range(500)]
    numbers += [k / 2 ** 12 for k in range(-300, 300)]  # exact binary fractions: ties
    cases = [(x, rng.randint(1, 7)) for x in numbers]
    assert _js_format(cases) == [format_number(x, d) for x, d in cases]
