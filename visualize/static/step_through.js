// The step-through page: replays the chain-rule steps embedded as JSON (see
// visualize/step_through.py for what each field is). Every text shown comes from the
// Python narrator; this script only decides which of it to show at step k.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("chainrule-data").textContent);
  var steps = DATA.steps, N = steps.length, current = 0, timer = null;
  var quiz = DATA.quiz, answered = [], firstTry = [], tries = [];
  var svg = document.querySelector("#graph svg");
  var graphBox = document.getElementById("graph");
  var $ = function (id) { return document.getElementById(id); };
  var gradText = {}, nodeEl = {}, isLeaf = {};
  DATA.leaves.forEach(function (name) { isLeaf[name] = true; });
  Array.prototype.forEach.call(svg.querySelectorAll("g.node[data-name]"), function (g) {
    nodeEl[g.getAttribute("data-name")] = g;
    var t = g.querySelector("text.grad");
    if (t) { gradText[g.getAttribute("data-name")] = t; }
  });
  var edgeForStep = {}, outEdge = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.edge[data-step]"), function (g) {
    edgeForStep[g.getAttribute("data-step")] = g;
  });
  Array.prototype.forEach.call(svg.querySelectorAll("g.edge[data-out]"), function (g) {
    outEdge[g.getAttribute("data-out")] = g;
  });
  if (DATA.legend.length) {
    $("names").textContent = "where " + DATA.legend.map(function (row) {
      return row[0] + " = " + row[1];
    }).join("     ");
  }
  var history = $("history"), items = [];
  steps.forEach(function (s, i) {
    answered.push(!quiz);
    firstTry.push(false);
    tries.push(0);
    var li = document.createElement("li");
    // textContent: labels are shown as text, never parsed
    li.textContent = (DATA.passes > 1 && s.number === 1 ? "backward() call " + s.pass + ": " : "")
      + s.line;
    li.style.display = "none";
    li.title = "go to step " + (i + 1);
    li.addEventListener("click", function () { stop(); show(i + 1); });
    history.appendChild(li);
    items.push(li);
  });

  function clearHighlights() {
    var marks = ["active", "flow-out", "receiving", "source", "active-op"];
    Array.prototype.forEach.call(svg.querySelectorAll("." + marks.join(", .")), function (el) {
      marks.forEach(function (m) { el.classList.remove(m); });
    });
  }

  // The grads shown after the first k steps: a new pass restarts the results from zero
  // (they are recomputed) while the leaves keep what they hold: backward() twice.
  function gradsAfter(k) {
    var shown = {}, pass = 0;
    for (var i = 0; i < k; i++) {
      var s = steps[i];
      if (s.pass !== pass) {
        pass = s.pass;
        Object.keys(shown).forEach(function (name) {
          if (!isLeaf[name]) { delete shown[name]; }
        });
        shown[DATA.root] = DATA.root_grad_text;
      }
      shown[s.parent] = answered[i] ? s.grad_text : "?";
    }
    return shown;
  }

  function score() {
    if (!quiz) { return; }
    var right = firstTry.filter(Boolean).length;
    var done = answered.filter(Boolean).length;
    $("quiz-score").textContent = "score " + right + " / " + N
      + (done === N ? " (finished)" : "");
    document.body.setAttribute("data-score", String(right));
  }

  function show(k) {
    current = Math.max(0, Math.min(N, k));
    var shown = gradsAfter(current);
    DATA.nodes.forEach(function (name) {
      var t = gradText[name];
      if (t) {
        t.textContent = "grad " + (name in shown ? shown[name] : "");
        t.classList.toggle("blank", !(name in shown));
      }
    });
    clearHighlights();
    if (quiz) {  // an edge's label is the local derivative asked for: shown once answered
      steps.forEach(function (t, i) {
        var edge = edgeForStep[String(t.number)];
        if (edge && t.pass === 1) { edge.classList.toggle("unanswered", !answered[i]); }
      });
    }
    $("step-counter").textContent = "step " + current + " / " + N;
    var s = current >= 1 ? steps[current - 1] : null;
    $("pass-counter").textContent = DATA.passes > 1 && s
      ? "backward() call " + s.pass + " of " + DATA.passes : "";
    $("quiz").hidden = true;
    if (current === 0) {
      $("step-line").textContent = "Forward pass: every value is computed, no gradient yet.";
      $("step-note").textContent = N ? "Press Next (or \u2192) to start the backward pass: "
        + "it seeds d" + DATA.root_name + "/d" + DATA.root_name
        + " = 1 and applies the chain rule edge by edge."
        + (quiz ? " Quiz: at each step type the local derivative and the new gradient." : "")
        : "The root has no inputs: there is nothing to propagate.";
    } else {
      var edge = edgeForStep[String(s.number)];
      if (edge) { edge.classList.add("active"); }
      if (outEdge[s.node]) { outEdge[s.node].classList.add("flow-out"); }
      if (nodeEl[s.node + "_op"]) { nodeEl[s.node + "_op"].classList.add("active-op"); }
      if (nodeEl[s.node]) { nodeEl[s.node].classList.add("source"); }
      if (nodeEl[s.parent]) { nodeEl[s.parent].classList.add("receiving"); }
      if (answered[current - 1]) {
        $("step-line").textContent = s.line;
        var note = "Gradient flows from " + s.node_name + " back through its '" + s.op
          + "' into " + s.parent_name + "; " + s.change + ".";
        if (s.number === 1) {
          note = "Seed: d" + DATA.root_name + "/d" + DATA.root_name + " = 1. " + note;
          if (s.pass > 1) {
            note = "backward() again: the results restart from 0 and are recomputed, but the "
              + "inputs keep their gradient and add to it, so theirs double: this is why "
              + "training calls zero_grad() before each backward(). " + note;
          }
        }
        $("step-note").textContent = note;
      } else {
        ask(s);
      }
      reveal(nodeEl[s.parent]);
    }
    items.forEach(function (li, i) {
      li.style.display = i < current && answered[i] ? "" : "none";
      li.className = i === current - 1 ? "current" : "";
    });
    if (current > 0) { history.scrollTop = history.scrollHeight; }
    $("prev").disabled = current === 0;
    $("reset").disabled = current === 0;
    var blocked = quiz && current > 0 && !answered[current - 1];
    $("next").disabled = current === N || blocked;
    $("play").disabled = (current === N && timer === null) || quiz;
    document.body.setAttribute("data-step", String(current));
    score();
  }

  function ask(s) {
    $("step-line").textContent = s.question;
    $("step-note").textContent = "The grad of " + s.parent_name + " was " + s.before_text
      + " before this step.";
    $("quiz-local-label").textContent = s.local_symbol + " =";
    $("quiz-grad-label").textContent = "new grad of " + s.parent_name + " =";
    $("quiz").hidden = false;
    ["quiz-local", "quiz-grad"].forEach(function (id) {
      $(id).value = "";
      $(id).className = "";
    });
    $("quiz-feedback").textContent = "";
    $("quiz-feedback").className = "";
    $("quiz-local").focus();
  }

  // Marked as the command line marks (quiz_marking.js, inlined before this script).
  function right(text, answer) {
    return ChainruleMarking.isRight(text, answer);
  }

  function check(event) {
    if (event) { event.preventDefault(); }
    var i = current - 1, s = steps[i];
    var localOk = right($("quiz-local").value, s.answer_local);
    var gradOk = right($("quiz-grad").value, s.answer_grad);
    $("quiz-local").className = localOk ? "right" : "wrong";
    $("quiz-grad").className = gradOk ? "right" : "wrong";
    tries[i] += 1;
    if (localOk && gradOk) {
      firstTry[i] = tries[i] === 1;
      answered[i] = true;
      show(current);
      $("step-note").textContent = "Right! " + $("step-note").textContent;
      return;
    }
    var feedback = $("quiz-feedback");
    feedback.className = "wrong";
    var wrong = [];
    if (!localOk) { wrong.push(s.local_symbol + " (hint: " + s.hint + ")"); }
    if (!gradOk) {
      wrong.push("the new grad of " + s.parent_name + " (hint: " + s.grad_hint + ")");
    }
    feedback.textContent = "Not yet: " + wrong.join("; ") + ".";
    score();
  }

  function revealAnswer() {
    var i = current - 1;
    tries[i] += 1;
    answered[i] = true;
    firstTry[i] = false;
    show(current);
  }

  // Big graphs do not fit on screen: bring the receiving node into view when it is
  // hidden (under the sticky header, below the window or scrolled out of the box).
  function reveal(el) {
    if (!el || !el.scrollIntoView) { return; }
    var r = el.getBoundingClientRect(), box = graphBox.getBoundingClientRect();
    var top = document.querySelector("header").getBoundingClientRect().bottom;
    if (r.top < Math.max(top, box.top) || r.bottom > Math.min(window.innerHeight, box.bottom)
        || r.left < box.left || r.right > box.right) {
      el.scrollIntoView({block: "center", inline: "center"});
    }
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $("play").textContent = "\u25B6 Play";
  }
  function play() {
    if (timer !== null) { stop(); show(current); return; }
    if (current === N) { show(0); }
    $("play").textContent = "\u23F8 Pause";
    timer = setInterval(function () {
      if (current >= N) { stop(); show(current); return; }
      show(current + 1);
    }, 1000);
  }
  function forward() {
    if (!$("next").disabled) { show(current + 1); }
  }

  $("next").addEventListener("click", function () { stop(); forward(); });
  $("prev").addEventListener("click", function () { stop(); show(current - 1); });
  $("reset").addEventListener("click", function () { stop(); show(0); });
  $("play").addEventListener("click", play);
  $("quiz").addEventListener("submit", check);
  $("quiz-reveal").addEventListener("click", revealAnswer);
  $("fit").addEventListener("change", function () {
    graphBox.classList.toggle("fit", this.checked);
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.target && e.target.tagName === "INPUT" && e.target.type === "text") { return; }
    if (e.key === "ArrowRight") { stop(); forward(); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
    else if (e.key === "Home") { stop(); show(0); e.preventDefault(); }
  });
  graphBox.classList.add("fit");
  show(0);
}());
