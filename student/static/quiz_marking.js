// Marking a typed quiz answer the way the command line does (student/marking.py,
// close_enough and parse_answer), so the page and `chainrule quiz` agree on every answer:
// a number is right when it equals the true value rounded to the significant figures it
// is written with (at least the digits shown), so 0.235 and 0.2350 are right for
// 0.2350037 but the over-precise 0.23504 is wrong; a fraction (1/4) is exact, so it is
// right when it rounds like the true value. Any page may include this file and call
// ChainruleMarking.isRight(text, {value: true value, digits: figures shown}).
var ChainruleMarking = (function () {
  "use strict";
  var NUMBER = /^\s*[-+]?(\d*)\.?(\d*)(?:[eE][-+]?\d+)?\s*$/;

  function normalise(text) {
    return String(text).trim().replace(/\u2212/g, "-");
  }

  // A typed answer as a number (0.25, -1e-3, 1/4); NaN for anything else, or not finite.
  function parseAnswer(text) {
    text = normalise(text);
    var parts = text.split("/");
    if (parts.length > 2) { return NaN; }
    for (var i = 0; i < parts.length; i++) {
      var m = NUMBER.exec(parts[i]);
      if (!m || !(m[1] || m[2])) { return NaN; }  // Number() takes "", "0x10", "Infinity"
    }
    var value = parts.length === 2 ? Number(parts[0]) / Number(parts[1]) : Number(text);
    return isFinite(value) ? value : NaN;
  }

  // Significant figures of a plain number as typed ('0.1175' -> 4, '1e-3' -> 1); null for
  // a fraction. '1200' has 2: without a point its trailing zeros only place the point.
  function significantFigures(text) {
    text = normalise(text);
    var m = NUMBER.exec(text);
    if (!m || !(m[1] || m[2])) { return null; }
    var whole = m[1], fraction = m[2];
    if (text.indexOf(".") < 0) { whole = whole.replace(/0+$/, ""); }
    return Math.max(1, (whole + fraction).replace(/^0+/, "").length);
  }

  // x rounded to `figures` significant figures as Python's format(x, ".Ng") rounds it:
  // from the exact binary value, an exact tie to even (toPrecision breaks ties away from
  // zero: 0.015625 to 4 figures is 0.01562 in the CLI, 0.01563 by toPrecision).
  function roundTo(x, figures) {
    if (figures >= 17) { return x; }  // 17 figures give back the same double
    var longer = Math.abs(x).toPrecision(100);  // exact for any tie this short
    var digits = longer.replace(/e.*$/, "").replace(".", "").replace(/^0+/, "");
    var tie = digits.charAt(figures) === "5" && /^0*$/.test(digits.slice(figures + 1));
    var lastKept = Number(digits.charAt(figures - 1));
    if (tie && lastKept % 2 === 0) {
      // the tie written exactly with one figure more, that figure (the 5) dropped
      var exact = Math.abs(x).toExponential(figures);
      return (x < 0 ? -1 : 1) * Number(exact.replace(/5e/, "e"));
    }
    return Number(x.toPrecision(figures));
  }

  // Is `text` right for answer = {value: the exact true value (null when it is not
  // finite), digits: the significant figures shown}?
  function isRight(text, answer) {
    var value = parseAnswer(text), truth = answer.value, digits = answer.digits;
    if (isNaN(value) || truth === null || !isFinite(truth)) { return false; }
    if (value === 0 || truth === 0) {
      return Math.abs(value - truth) <= Math.pow(10, -(digits + 8));
    }
    var written = significantFigures(text);
    if (written === null) {  // a fraction: exact, so round it as the true value is rounded
      return roundTo(value, digits) === roundTo(truth, digits);
    }
    var rounded = roundTo(truth, Math.max(1, digits, written));
    // the typed number and the rounded one are the same decimal; allow for floats only
    return Math.abs(value - rounded) <= 1e-9 * Math.abs(rounded);
  }

  return {parseAnswer: parseAnswer, significantFigures: significantFigures,
          roundTo: roundTo, isRight: isRight};
}());
