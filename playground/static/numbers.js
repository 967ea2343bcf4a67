// The browser twin of autograd_core/numbers.py's format_number, the one rule for showing
// a number: `digits` significant figures (4 unless asked), trailing zeros dropped, never
// -0, an exponent written e-6 (not e-06) and e300 (not e+300); nan, inf and -inf as
// Python writes them. It is Python's format(x, ".Ng") step for step: rounded from the
// exact binary value with an exact tie to even (toPrecision breaks ties upward:
// 0.015625 to 4 figures is 0.01562 in Python, 0.01563 by toPrecision), and written
// with a point when the exponent is from -4 to digits - 1, as an exponent otherwise.
// tests/playground/test_number_format.py runs it through node against format_number.
var ChainruleNumbers = (function () {
  "use strict";
  var DIGITS = 4;

  // [the first `figures` significant digits of |x|, the decimal exponent of the first],
  // rounded as Python rounds.
  function significant(x, figures) {
    // 100 figures hold any tie exactly: a tie has figures + 1 significant digits
    var exact = Math.abs(x).toExponential(99);
    var exponent = Number(exact.slice(exact.indexOf("e") + 1));
    var all = exact.slice(0, exact.indexOf("e")).replace(".", "");
    var kept = all.slice(0, figures), next = all.charAt(figures);
    var rest = all.slice(figures + 1);
    var up = next > "5" || (next === "5" && (/[1-9]/.test(rest) ||
                                             Number(kept.charAt(figures - 1)) % 2 === 1));
    if (up) {
      var carried = "", carry = true;
      for (var i = kept.length - 1; i >= 0; i--) {
        var d = Number(kept.charAt(i)) + (carry ? 1 : 0);
        carry = d === 10;
        carried = String(carry ? 0 : d) + carried;
      }
      if (carry) {  // 9.99 -> 10.0: one figure more, one place up
        carried = ("1" + carried).slice(0, figures);
        exponent += 1;
      }
      kept = carried;
    }
    return [kept, exponent];
  }

  function formatNumber(x, digits) {
    x = Number(x);
    if (x !== x) { return "nan"; }
    if (x === Infinity) { return "inf"; }
    if (x === -Infinity) { return "-inf"; }
    if (x === 0) { return "0"; }
    var figures = Math.max(1, digits === undefined || digits === null ? DIGITS : digits);
    var rounded = significant(x, figures), kept = rounded[0], exponent = rounded[1];
    var sign = x < 0 ? "-" : "";
    var text;
    if (exponent >= -4 && exponent < figures) {
      var whole, fraction;
      if (exponent >= 0) {
        whole = kept.slice(0, exponent + 1);
        fraction = kept.slice(exponent + 1);
      } else {
        whole = "0";
        fraction = new Array(-exponent).join("0") + kept;
      }
      fraction = fraction.replace(/0+$/, "");
      text = whole + (fraction ? "." + fraction : "");
    } else {
      var rest = kept.slice(1).replace(/0+$/, "");
      text = kept.charAt(0) + (rest ? "." + rest : "") + "e" + exponent;
    }
    return sign + text;
  }

  return {formatNumber: formatNumber, DIGITS: DIGITS};
}());

if (typeof module !== "undefined") { module.exports = ChainruleNumbers; }  // node, for tests
