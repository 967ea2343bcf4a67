// The playground page: talks to its server over one websocket and draws what it sends.
// All numbers come from the server (the chainrule engine); this file only draws them,
// each written by numbers.js (format_number's browser twin, loaded before it).
//
// Why one file of about 900 lines: its parts (messages, settings, the network tab and
// its picture, the play loop, the expression tab, the wiring) share one closure, the
// socket and `state`, and call each other both ways (a frame redraws the picture, a
// click on the picture asks for a derivation, the wiring starts everything). Split, they
// would need a module loader or globals for that state, and the page is served as plain
// files with no build step. The sections below are marked with "// ---" rules.
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var SETTINGS = ["dataset", "samples", "hidden", "activation", "loss", "optimizer", "lr",
                  "batch_size", "seed"];
  var state = {
    socket: null, waiting: [], nextId: 1, playing: false, busy: false,
    data: null, frame: null, history: [], frames: [], fps: 0, limits: null,
    expression: null, exprStep: 0
  };
  window.playground = state;  // for tests and the curious: the latest frame and figures

  // ------------------------------------------------------------------ messages
  function showMessage(text) {
    var box = $("message");
    box.textContent = text;
    box.hidden = !text;
  }

  // A number as format_number writes it (numbers.js, its browser twin); "–" for none.
  function fmt(x, digits) {
    if (x === null || x === undefined) { return "–"; }
    return ChainruleNumbers.formatNumber(x, digits);
  }

  // One request at a time per reply, in order: the server answers each with one message.
  function request(message) {
    return new Promise(function (resolve) {
      if (!state.socket || state.socket.readyState !== WebSocket.OPEN) {
        resolve({type: "error", message: "not connected to the server; reload the page"});
        return;
      }
      message.id = state.nextId++;
      state.waiting.push({id: message.id, resolve: resolve});
      state.socket.send(JSON.stringify(message));
    });
  }

  function connect() {
    var token = params.get("token") || "";
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
      (token ? "?token=" + encodeURIComponent(token) : "");
    return new Promise(function (resolve) {
      var socket = new WebSocket(url);
      state.socket = socket;
      socket.onopen = function () { $("connection").textContent = "connected"; resolve(true); };
      socket.onmessage = function (event) {
        var reply = JSON.parse(event.data);
        if (reply.fatal) { showMessage(reply.message); return; }
        var waiter = state.waiting.shift();
        if (waiter) { waiter.resolve(reply); }
      };
      socket.onclose = function () {
        $("connection").textContent = "disconnected: reload the page (the server may have stopped)";
        state.playing = false;
        updatePlay();
        state.waiting.splice(0).forEach(function (w) {
          w.resolve({type: "error", message: "the connection to the server closed"});
        });
        resolve(false);
      };
    });
  }

  // ------------------------------------------------------------------ settings
  function readSettings() {
    var s = {};
    SETTINGS.forEach(function (name) {
      var value = $(name).value.trim();
      if (value !== "") { s[name] = value; }
    });
    return s;
  }

  // The dataset, activation and loss menus: the server's "choices" reply, from nn's
  // dataset rows and loss table, each a [value, label] pair.
  function fillChoices(choices) {
    Object.keys(choices).forEach(function (name) {
      var select = $(name);
      select.textContent = "";
      choices[name].forEach(function (pair) {
        var option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
    });
  }

  var urlProblems = [];  // shown after the first network is set up, so nothing hides them

  function applyUrlParameters() {
    SETTINGS.concat(["speed"]).forEach(function (name) {
      if (!params.has(name)) { return; }
      var el = $(name), value = params.get(name);
      el.value = value;
      if (el.tagName === "SELECT" && el.value !== value) {
        var choices = Array.prototype.map.call(el.options, function (o) { return o.value || "default"; });
        urlProblems.push("the address asks for " + name + "=" + value + ", which is not one of: " +
                         choices.join(", ") + "; using " + (el.value || "the default"));
      }
    });
    if (params.has("expr")) { $("expr-text").value = params.get("expr"); }
    if (params.has("values")) { $("expr-values").value = params.get("values"); }
    if (params.has("figures")) { $("quiz-digits").value = params.get("figures"); }
    // hide=lr,hidden,...: those controls disappear, so their settings stay fixed.
    (params.get("hide") || "").split(",").forEach(function (name) {
      name = name.trim();
      if (!name) { return; }
      document.querySelectorAll('[data-control="' + name + '"]').forEach(function (el) {
        el.hidden = true;
      });
      if (name === "settings") { $("settings").hidden = true; }
      if (name === "expression-tab") { $("tab-expression").hidden = true; }
      if (name === "network-tab") { $("tab-network").hidden = true; }
    });
    if (params.get("tab") === "expression") { selectTab("expression"); }
  }

  function shareLink() {
    var link = new URLSearchParams();
    link.set("token", params.get("token") || "");
    var s = readSettings();
    Object.keys(s).forEach(function (k) { link.set(k, s[k]); });
    link.set("speed", $("speed").value);
    if ($("tab-expression").getAttribute("aria-selected") === "true") {
      link.set("tab", "expression");
      link.set("expr", $("expr-text").value);
      link.set("values", $("expr-values").value);
      if (!$("quiz-box").hidden) { link.set("quiz", "1"); link.set("figures", $("quiz-digits").value); }
    }
    if (params.has("hide")) { link.set("hide", params.get("hide")); }
    return location.origin + location.pathname + "?" + link.toString();
  }

  // ------------------------------------------------------------------ network tab
  function handleReply(reply) {
    if (reply.type === "error") {
      showMessage(reply.message);
      return false;
    }
    showMessage("");
    return true;
  }

  async function configure(message) {
    setPlaying(false);
    var reply = await request(message || {type: "configure", settings: readSettings()});
    if (!handleReply(reply)) { return false; }
    state.data = reply;
    state.limits = reply.limits;
    state.history = (reply.history || []).slice();  // a loaded tab keeps its curves
    if (reply.settings) {
      SETTINGS.forEach(function (name) {
        var v = reply.settings[name];
        if (name === "hidden") { v = v.join(","); }
        if (name === "loss" && v === null) { v = ""; }
        $(name).value = v === null ? "" : v;
      });
    }
    var r = reply.resolved, digits = reply.X_test !== undefined;
    $("boundary").setAttribute("aria-label", digits ?
      "Held-out digits with the network's answer: green right, red wrong" :
      "Decision boundary: the model's output over the plane, with the data points");
    $("boundary-caption").textContent = digits ?
      "The first " + Math.min(reply.X_test.length, 60) + " of " + r.test_points +
      " held-out digits (not trained on), each with the network's answer: green right, red wrong" +
      ". Training on " + r.train_points + " digits; lr " + r.lr + ", batch " + r.batch + ", loss " + r.loss :
      r.task === "classification" ?
      "P(class 1): blue 0, orange 1; points are the data. lr " + r.lr +
      ", batch " + r.batch + ", loss " + r.loss :
      "the model's curve and the data; lr " + r.lr + ", loss " + r.loss;
    $("confusion-figure").hidden = !digits;
    $("test-stats").hidden = !digits;
    $("derivation").querySelectorAll(".result").forEach(function (el) { el.remove(); });
    drawFrame(reply.frame);
    if (reply.note) { showMessage(reply.note); }
    return true;
  }

  function drawFrame(frame) {
    state.frame = frame;
    state.history.push(frame.point);
    $("step-count").textContent = frame.step;
    $("epoch-count").textContent = frame.epoch;
    $("loss-value").textContent = fmt(frame.loss, 4);
    $("accuracy-value").textContent = frame.accuracy === null ? "–" :
      (100 * frame.accuracy).toFixed(1) + "%";
    var t0 = performance.now();
    drawField(frame.field);
    var t1 = performance.now();
    drawCurves();
    var t2 = performance.now();
    drawNetwork(frame.network);
    var now = performance.now();
    state.drawTimes = {field: t1 - t0, curves: t2 - t1, network: now - t2};  // ms, last frame
    state.frames.push(now);
    while (state.frames.length && state.frames[0] < now - 1000) { state.frames.shift(); }
    state.fps = state.frames.length;
    state.frames_drawn = (state.frames_drawn || 0) + 1;
    $("fps").textContent = state.fps;
  }

  // Blue for class 0 / negative, orange for class 1 / positive, as TensorFlow Playground.
  var BLUE = [8, 119, 189], ORANGE = [245, 147, 34], WHITE = [232, 234, 235];
  function mix(t) {
    t = Math.max(0, Math.min(1, t));
    var a = t < 0.5 ? BLUE : WHITE, b = t < 0.5 ? WHITE : ORANGE, u = t < 0.5 ? t * 2 : t * 2 - 1;
    return [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * u); });
  }

  // The digits: a grid of held-out images, each framed green (right) or red (wrong)
  // with the network's answer under it; and the confusion matrix beside.
  var COLUMNS = 10, PIXEL = 3.5;
  // The held-out images never change: drawn once per dataset into a canvas of their own.
  function digitImages(field) {
    var X = state.data.X_test;
    if (state.digitImages && state.digitImages.data === X) { return state.digitImages.canvas; }
    var canvas = document.createElement("canvas"), size = 8 * PIXEL;
    canvas.width = size * field.shown; canvas.height = size;
    var ctx = canvas.getContext("2d");
    for (var k = 0; k < field.shown; k++) {
      for (var p = 0; p < 64; p++) {
        var shade = Math.round(255 * (1 - Math.max(0, Math.min(1, X[k][p]))));
        ctx.fillStyle = "rgb(" + shade + "," + shade + "," + shade + ")";
        ctx.fillRect(k * size + (p % 8) * PIXEL, Math.floor(p / 8) * PIXEL, PIXEL, PIXEL);
      }
    }
    state.digitImages = {data: X, canvas: canvas};
    return canvas;
  }

  function drawDigits(field) {
    var canvas = $("boundary"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    var y = state.data.y_test, rows = Math.ceil(field.shown / COLUMNS);
    var cw = W / COLUMNS, ch = H / Math.max(rows, 1), size = 8 * PIXEL, images = digitImages(field);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.font = "bold 12px sans-serif";
    ctx.textAlign = "center";
    ctx.imageSmoothingEnabled = false;
    for (var k = 0; k < field.shown; k++) {
      var left = (k % COLUMNS) * cw + (cw - size) / 2, top = Math.floor(k / COLUMNS) * ch + 4;
      ctx.drawImage(images, k * size, 0, size, size, left, top, size, size);
      var right = field.predicted[k] === y[k];
      ctx.strokeStyle = right ? "#2ca02c" : "#d62728";
      ctx.lineWidth = 2;
      ctx.strokeRect(left - 1.5, top - 1.5, size + 3, size + 3);
      ctx.fillStyle = right ? "#1a6e1a" : "#c01818";
      ctx.fillText(String(field.predicted[k]), left + size / 2, top + size + 14);
    }
    ctx.textAlign = "start";
    $("test-accuracy-value").textContent = (100 * field.test_accuracy).toFixed(1) + "%";
    drawConfusion(field.confusion);
  }

  function drawConfusion(matrix) {
    var table = $("confusion");
    table.textContent = "";
    var head = document.createElement("tr");
    head.appendChild(document.createElement("th")).textContent = "true \\ answer";
    matrix.forEach(function (_, j) { head.appendChild(document.createElement("th")).textContent = j; });
    table.appendChild(head);
    matrix.forEach(function (row, i) {
      var tr = document.createElement("tr"), total = row.reduce(function (a, b) { return a + b; }, 0);
      tr.appendChild(document.createElement("th")).textContent = i;
      row.forEach(function (count, j) {
        var td = document.createElement("td"), share = total ? count / total : 0;
        td.textContent = count || "";
        td.setAttribute("data-value", String(count));
        if (count) {
          td.className = i === j ? "right" : "wrong";
          td.style.background = i === j ? "rgba(44, 160, 44, " + (0.15 + 0.6 * share) + ")" :
            "rgba(214, 39, 40, " + (0.15 + 0.6 * share) + ")";
        }
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
  }

  function drawField(field) {
    if (field.kind === "digits") { drawDigits(field); return; }
    var canvas = $("boundary"), ctx = canvas.getContext("2d");
    var W = canvas.width, H = canvas.height, b = field.bounds;
    var sx = function (x) { return (x - b[0]) / (b[1] - b[0]) * W; };
    var sy = function (y) { return H - (y - b[2]) / (b[3] - b[2]) * H; };
    ctx.clearRect(0, 0, W, H);
    if (field.kind === "heatmap") {
      var n = field.n, small = document.createElement("canvas");
      small.width = n; small.height = n;
      var sctx = small.getContext("2d"), image = sctx.createImageData(n, n);
      for (var j = 0; j < n; j++) {
        for (var i = 0; i < n; i++) {
          var c = mix(field.values[j * n + i]), k = ((n - 1 - j) * n + i) * 4;
          image.data[k] = c[0]; image.data[k + 1] = c[1]; image.data[k + 2] = c[2];
          image.data[k + 3] = 255;
        }
      }
      sctx.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      // Grid points sit at the cells' centres: stretch so they land on the bounds.
      var cw = W / (n - 1), ch = H / (n - 1);
      ctx.drawImage(small, -cw / 2, -ch / 2, W + cw, H + ch);
    } else {
      ctx.fillStyle = "#f7f7f7";
      ctx.fillRect(0, 0, W, H);
      ctx.strokeStyle = "#d62728"; ctx.lineWidth = 2.5; ctx.beginPath();
      field.x.forEach(function (x, i) {
        var px = sx(x), py = sy(field.values[i]);
        if (i) { ctx.lineTo(px, py); } else { ctx.moveTo(px, py); }
      });
      ctx.stroke();
    }
    var X = state.data.X, y = state.data.y, twoD = X[0].length === 2;
    X.forEach(function (p, i) {
      var px = sx(p[0]), py = sy(twoD ? p[1] : y[i]);
      ctx.beginPath();
      ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
      var c = twoD ? (y[i] > 0.5 ? ORANGE : BLUE) : [90, 90, 90];
      ctx.fillStyle = "rgb(" + c.join(",") + ")";
      ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = "rgba(0, 0, 0, 0.7)"; ctx.stroke();
    });
  }

  function drawCurves() {
    var canvas = $("curves"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    var h = state.history, pad = 28;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1;
    ctx.strokeRect(pad, 6, W - pad - 6, H - pad - 6);
    if (!h.length) { return; }
    var last = h[h.length - 1][0], first = h[0][0], span = Math.max(1, last - first);
    var maxLoss = Math.max.apply(null, h.map(function (p) { return p[1]; })) || 1;
    var px = function (s) { return pad + (s - first) / span * (W - pad - 6); };
    var py = function (v) { return 6 + (1 - v) * (H - pad - 6); };
    function line(index, scale, color) {
      ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
      h.forEach(function (p, i) {
        if (p[index] === null) { return; }
        var x = px(p[0]), yv = py(p[index] / scale);
        if (i) { ctx.lineTo(x, yv); } else { ctx.moveTo(x, yv); }
      });
      ctx.stroke();
    }
    line(1, maxLoss, "#1f77b4");
    if (h[0][2] !== null) { line(2, 1, "#ff7f0e"); }
    ctx.fillStyle = "#444"; ctx.font = "11px sans-serif";
    ctx.fillText(fmt(maxLoss, 3), 2, 14);
    ctx.fillText("0", 14, H - pad);
    ctx.fillText("step " + first, pad, H - 8);
    ctx.fillText("step " + last, W - 70, H - 8);
  }

  // ------------------------------------------------------------ network picture
  var SVGNS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function weightLabel(li, si, ni, w, g) {
    var from = li ? "layer " + li + " neuron " + (si + 1) : "input x" + (si + 1) +
      (pixels(li) ? " (pixel row " + (Math.floor(si / 8) + 1) + ", column " + (si % 8 + 1) + ")" : "");
    return "weight from " + from + " to layer " + (li + 1) + " neuron " + (ni + 1) + ": " + fmt(w, 4) +
      (g === null ? "" : ", dC/dw " + fmt(g, 4));
  }
  function pixels(li) { return li === 0 && state.frame && state.frame.network.inputs === 64; }

  // The picture is built once per network shape and then updated in place each frame:
  // creating a thousand elements per frame is slow, and a weight focused from the
  // keyboard would lose its focus at every frame while playing.
  var drawn = {shape: null, els: {}, edges: null, nodes: null, labelled: 0, labels: true};
  function put(id, name, attrs, parent, label) {
    var e = drawn.els[id], created = !e;
    if (created) {
      e = el(name, attrs, parent);
      drawn.els[id] = e;
      e.shown = {};
      Object.keys(attrs).forEach(function (k) { e.shown[k] = String(attrs[k]); });
      if (label) { e.titleElement = el("title", {}, e); }
    } else {
      for (var k in attrs) {
        var v = String(attrs[k]);
        if (e.shown[k] !== v) { e.setAttribute(k, v); e.shown[k] = v; }
      }
    }
    // Names and tooltips carry the numbers; while playing they are renewed once a
    // second, not every frame (a thousand text changes a frame slowed digits to 5/s).
    if (label && (created || drawn.labels)) {
      var text = label();
      if (e.titleElement.textContent !== text) {
        e.titleElement.textContent = text;
        e.setAttribute("aria-label", text);
      }
    }
    return e;
  }

  function drawNetwork(net) {
    var svg = $("network"), W = 560, image = net.inputs === 64;
    var view = $("edge-view").value;
    var columns = [net.inputs].concat(net.layers.map(function (l) { return l.neurons.length; }));
    // 64 inputs: an 8 x 8 block, and each first-layer neuron's 64 weights as an 8 x 8
    // picture beside it (the pixels it looks for); tall enough for 16 neurons.
    var widest = Math.max.apply(null, columns.slice(1));
    var H = image ? Math.max(360, 44 * widest + 50) : 360;
    var shape = columns.join(",");
    if (drawn.shape !== shape) {
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      drawn = {shape: shape, els: {}};
      drawn.edges = el("g", {"class": "edges"}, svg);
      drawn.nodes = el("g", {"class": "nodes"}, svg);
      svg.setAttribute("height", H);
    }
    var edges = drawn.edges, nodes = drawn.nodes, now = performance.now();
    drawn.labels = !state.playing || now - drawn.labelled > 1000;
    if (drawn.labels) { drawn.labelled = now; }
    var pos = function (c, i) {
      var n = image && c === 0 ? 1 : columns[c], x = 40 + c * (W - 80) / (columns.length - 1);
      return [x, H / 2 + (i - (n - 1) / 2) * Math.min(40, (H - 50) / n)];
    };
    // Line widths and shades are relative to the largest; the pixel pictures to the
    // largest of the first layer's own (smaller than the later layers': they would fade).
    var largest = [];
    net.layers.forEach(function (layer, li) {
      largest[li] = 1e-12;
      layer.neurons.forEach(function (n) {
        var values = view === "weights" ? n.w : (n.dw || []);
        values.forEach(function (v) { largest[li] = Math.max(largest[li], Math.abs(v)); });
      });
    });
    var biggest = Math.max.apply(null, largest.slice(image ? 1 : 0));
    net.layers.forEach(function (layer, li) {
      layer.neurons.forEach(function (n, ni) {
        var to = pos(li + 1, ni);
        if (image && li === 0) {
          drawWeightPicture(n, ni, to, pos(0, 0), view, largest[0], edges, nodes);
          return drawNeuron(layer, li, n, ni, to, nodes);
        }
        n.w.forEach(function (w, si) {
          var from = pos(li, si), g = n.dw ? n.dw[si] : null;
          var v = view === "weights" ? w : (g === null ? 0 : g);
          put("w" + li + "," + ni + "," + si, "line", {
            x1: from[0] + 11, y1: from[1], x2: to[0] - 11, y2: to[1],
            "class": "weight", "data-layer": li + 1, "data-neuron": ni + 1, "data-source": si + 1,
            stroke: v >= 0 ? "#0877bd" : "#f59322",
            "stroke-width": (0.6 + 5 * Math.abs(v) / biggest).toFixed(2),
            tabindex: 0, role: "button"
          }, edges, function () { return weightLabel(li, si, ni, w, g); });
        });
        drawNeuron(layer, li, n, ni, to, nodes);
      });
    });
    if (drawn.els.inputs) { return; }  // the inputs and headings never change
    drawn.els.inputs = true;
    if (image) {
      var c0 = pos(0, 0), P = 7;
      var block = el("g", {"class": "inputs", role: "img",
        "aria-label": "64 inputs x1 to x64: the 8 x 8 pixels of a digit, row by row"}, nodes);
      for (var k = 0; k < 64; k++) {
        el("rect", {x: c0[0] - 4 * P + (k % 8) * P, y: c0[1] - 4 * P + Math.floor(k / 8) * P,
          width: P, height: P, "class": "pixel", fill: "#e8f1e3"}, block);
      }
      el("text", {x: c0[0], y: c0[1] + 4 * P + 14, "text-anchor": "middle"}, nodes).textContent = "x1 … x64";
    } else {
      for (var i = 0; i < net.inputs; i++) {
        var p = pos(0, i);
        el("rect", {x: p[0] - 11, y: p[1] - 11, width: 22, height: 22, "class": "input"}, nodes);
        el("text", {x: p[0], y: p[1] + 4, "text-anchor": "middle"}, nodes).textContent = "x" + (i + 1);
      }
    }
    columns.forEach(function (n, c) {
      el("text", {x: pos(c, 0)[0], y: 14, "text-anchor": "middle", "class": "column"}, svg)
        .textContent = c === 0 ? "inputs" : (c === columns.length - 1 ? "output" : "layer " + c);
    });
  }

  // One first-layer neuron's 64 weights (or dC/dw) as an 8 x 8 picture left of it, each
  // cell a weight to click; a grey line from the input block says where they come from.
  function drawWeightPicture(n, ni, to, block, view, biggest, edges, nodes) {
    var C = 4, left = to[0] - 11 - 8 * C - 6, top = to[1] - 4 * C;
    put("in" + ni, "line", {x1: block[0] + 4 * 7 + 2, y1: block[1], x2: left - 2, y2: to[1],
      "class": "bundle"}, edges);
    put("out" + ni, "line", {x1: left + 8 * C + 1, y1: to[1], x2: to[0] - 11, y2: to[1],
      "class": "bundle"}, edges);
    var group = put("picture" + ni, "g", {"class": "weights", "data-neuron": ni + 1}, nodes);
    n.w.forEach(function (w, si) {
      var g = n.dw ? n.dw[si] : null, v = view === "weights" ? w : (g === null ? 0 : g);
      var a = Math.min(1, Math.abs(v) / biggest);
      put("w0," + ni + "," + si, "rect", {x: left + (si % 8) * C, y: top + Math.floor(si / 8) * C,
        width: C, height: C,
        "class": "weight", "data-layer": 1, "data-neuron": ni + 1, "data-source": si + 1,
        fill: v >= 0 ? "rgba(8, 119, 189, " + (0.1 + 0.9 * a).toFixed(2) + ")" :
                       "rgba(245, 147, 34, " + (0.1 + 0.9 * a).toFixed(2) + ")",
        tabindex: 0, role: "button"}, group, function () { return weightLabel(0, si, ni, w, g); });
    });
  }

  function drawNeuron(layer, li, n, ni, to, nodes) {
    put("b" + li + "," + ni, "rect", {x: to[0] - 4, y: to[1] + 13, width: 8, height: 8, "class": "bias",
      "data-layer": li + 1, "data-neuron": ni + 1, "data-source": 0, tabindex: 0, role: "button",
      fill: n.b >= 0 ? "#0877bd" : "#f59322"}, nodes, function () {
        return "bias of layer " + (li + 1) + " neuron " + (ni + 1) + ": " + fmt(n.b, 4) +
          (n.db === undefined ? "" : ", dC/db " + fmt(n.db, 4));
      });
    var saturated = n.saturated !== null && n.saturated >= 0.5;
    put("n" + li + "," + ni, "circle", {cx: to[0], cy: to[1], r: 11,
      "class": "neuron" + (saturated ? " saturated" : ""),
      "data-layer": li + 1, "data-neuron": ni + 1, tabindex: 0, role: "button"}, nodes, function () {
        return "layer " + (li + 1) + " neuron " + (ni + 1) + " (" + layer.activation + ")" +
          (n.saturated === null ? "" : ", saturated on " + Math.round(100 * n.saturated) + "% of points");
      });
  }

  function derivationBox(title) {
    var box = $("derivation");
    box.querySelectorAll(".result").forEach(function (e) { e.remove(); });
    var div = document.createElement("div");
    div.className = "result";
    var h = document.createElement("h2");
    h.textContent = title;
    div.appendChild(h);
    box.appendChild(div);
    return div;
  }

  function para(parent, text, id, value) {
    var p = document.createElement("p");
    p.textContent = text;
    if (id) { p.id = id; }
    if (value !== undefined) { p.setAttribute("data-value", String(value)); }
    parent.appendChild(p);
    return p;
  }

  function table(parent, headers, rows, id) {
    var t = document.createElement("table");
    if (id) { t.id = id; }
    var tr = document.createElement("tr");
    headers.forEach(function (h) {
      var th = document.createElement("th"); th.textContent = h; tr.appendChild(th);
    });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var r = document.createElement("tr");
      row.forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = i === 0 ? String(v) : fmt(v, 6);
        td.setAttribute("data-value", String(v));
        r.appendChild(td);
      });
      t.appendChild(r);
    });
    parent.appendChild(t);
    return t;
  }

  var SHOWN_ROWS = 12;
  async function showWeight(layer, neuron, source) {
    var reply = await request({type: "weight", layer: layer, neuron: neuron, source: source});
    if (!handleReply(reply)) { return; }
    var what = source === 0 ? "the bias of neuron " + neuron + " in layer " + layer :
      "the " + weightLabel(layer - 1, source - 1, neuron - 1, reply.value, null).replace(/: [^:]*$/, "");
    var box = derivationBox("dC/dw for " + reply.name + ": " + what);
    box.id = "weight-derivation";
    var scale = (reply.factor === 1 ? "1" : reply.factor) + "/" + reply.batch;
    para(box, "For one point: d(cost)/d" + reply.name + " = " + reply.rule +
      "  (o_i · δ_j" + (source === 0 ? ", with o_i = 1 for a bias" : "") + "). " +
      "C is the mean over the batch's " + reply.batch + " points" +
      (reply.factor === 1 ? "" : ", and mse's (o − y)² is twice the quadratic cost ½(y − o)² whose δ is shown") +
      ", so dC/dw = " + scale + " · Σ o_i · δ_j.");
    para(box, (reply.after_step ? "At the weights of the latest step (w = " : "At the current weights, before any step (w = ") +
      fmt(reply.value, 6) + "), batch loss " + fmt(reply.loss, 6) + ". δ_j per point from nn.neuron_backward:");
    var shown = reply.rows.slice(0, SHOWN_ROWS);
    table(box, ["point", "o_i", "δ_j", "o_i · δ_j"], shown, "weight-rows");
    if (reply.rows.length > shown.length) {
      para(box, "… and " + (reply.rows.length - shown.length) + " more points.");
    }
    para(box, scale + " · Σ o_i · δ_j = " + fmt(reply.total, 8), "derivation-sum", reply.total);
    para(box, "the engine's dC/dw (w.grad after backward() on the whole batch) = " +
         fmt(reply.grad, 8), "derivation-grad", reply.grad);
    if (reply.after_step && reply.optimizer === "sgd") {
      para(box, "the step then did w ← w − lr · dC/dw = " + fmt(reply.value, 6) + " − " +
        reply.lr + " · " + fmt(reply.grad, 6) + " = " + fmt(reply.value - reply.lr * reply.grad, 6));
    } else if (reply.after_step) {
      para(box, "the step then moved w by " + reply.optimizer + " (lr " + reply.lr +
        "), which uses this gradient and the ones before it.");
    }
  }

  async function showNeuron(layer, neuron, sample) {
    var reply = await request({type: "neuron", layer: layer, neuron: neuron, sample: sample || 0});
    if (!handleReply(reply)) { return; }
    var box = derivationBox("δ of " + reply.name + " (layer " + layer + ", neuron " + neuron + ", " +
      reply.activation + ") on point " + reply.sample + " (" + (reply.sample_index + 1) + " of " +
      reply.batch + " in the batch, target " + reply.target + ")");
    box.id = "neuron-derivation";
    para(box, "net = " + fmt(reply.net, 6) + ", out = " + fmt(reply.out, 6) + ", f′(net) = " +
      fmt(reply.local, 6) + (reply.activation !== "linear" && reply.local < 0.01 ?
        "  ← saturated: almost no gradient passes back through this neuron" : ""));
    para(box, (reply.output_layer ? "output neuron (" + reply.loss_name + "): " :
      "hidden neuron: δ_j = f′(net_j) · Σ_l w_jl δ_l over the neurons it feeds:"));
    var line = para(box, reply.line, "neuron-delta", reply.delta);
    line.className = "step-line";
    para(box, "the engine's dC/dnet for this point: " + fmt(reply.engine, 8) +
      ". In the batch's mean cost C this point's share is " +
      (reply.factor === 1 ? "" : reply.factor + " · ") + "δ / " + reply.batch + ".");
    var nav = document.createElement("p");
    [["Previous point", -1], ["Next point", 1]].forEach(function (pair) {
      var b = document.createElement("button");
      b.textContent = pair[0];
      b.addEventListener("click", function () {
        var s = (reply.sample_index + pair[1] + reply.batch) % reply.batch;
        showNeuron(layer, neuron, s);
      });
      nav.appendChild(b);
    });
    box.appendChild(nav);
  }

  function onNetworkClick(event) {
    var t = event.target, layer = +t.getAttribute("data-layer"), neuron = +t.getAttribute("data-neuron");
    if (!layer) { return; }
    if (t.classList.contains("neuron")) { showNeuron(layer, neuron, 0); }
    else { showWeight(layer, neuron, +t.getAttribute("data-source")); }
  }

  // ---------------------------------------------------------------- play loop
  function updatePlay() {
    var b = $("play");
    b.textContent = state.playing ? "Pause" : "Play";
    b.setAttribute("aria-label", state.playing ? "Pause" : "Play");
    b.setAttribute("aria-pressed", state.playing ? "true" : "false");
  }

  function setPlaying(on) {
    var wasPlaying = state.playing;
    state.playing = on;
    updatePlay();
    if (on && !wasPlaying && !state.busy) { loop(); }
  }

  async function trainOnce(steps) {
    state.busy = true;
    try {
      var reply = await request({type: "train", steps: steps});
      if (handleReply(reply)) { drawFrame(reply); return true; }
      return false;
    } finally {
      state.busy = false;
    }
  }

  // While playing, the next step is asked for before this frame is drawn, so the
  // server computes while the browser draws.
  async function loop() {
    state.busy = true;
    var pending = request({type: "train", steps: +$("speed").value});
    try {
      while (pending) {
        var reply = await pending;
        pending = null;
        if (!handleReply(reply)) { setPlaying(false); break; }
        if (state.playing) { pending = request({type: "train", steps: +$("speed").value}); }
        drawFrame(reply);
        await new Promise(function (r) { requestAnimationFrame(function () { r(); }); });
      }
    } finally {
      state.busy = false;
    }
  }

  function download(name, text) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // ----------------------------------------------------------- expression tab
  async function differentiate(event) {
    if (event) { event.preventDefault(); }
    var reply = await request({type: "expression", text: $("expr-text").value,
                               values: $("expr-values").value});
    if (!expressionReply(reply)) { return; }
    $("quiz-box").hidden = true;
    $("expr-quiz").setAttribute("aria-pressed", "false");
    state.expression = reply;
    $("expr-result").hidden = false;
    $("expr-value").textContent = "value: " + reply.root + " = " + fmt(reply.value, 6);
    var list = $("expr-gradients");
    list.textContent = "";
    reply.variables.forEach(function (name) {
      var li = document.createElement("li");
      li.textContent = "d" + reply.root + "/d" + name + " = " + fmt(reply.gradients[name], 6);
      li.setAttribute("data-value", String(reply.gradients[name]));
      list.appendChild(li);
    });
    $("expr-legend").textContent = reply.legend.length ? "where " +
      reply.legend.map(function (p) { return p[0] + " = " + p[1]; }).join(", ") : "";
    var steps = $("expr-steps");
    steps.textContent = "";
    reply.steps.forEach(function (s, i) {
      var li = document.createElement("li");
      li.textContent = s.line;
      li.addEventListener("click", function () { exprGo(i + 1); });
      steps.appendChild(li);
    });
    exprGo(0);
  }

  function expressionReply(reply) {
    var error = $("expr-error");
    if (reply.type === "error") {
      error.textContent = reply.message + (reply.where ? "\n" + reply.where : "");
      error.hidden = false;
      $("expr-result").hidden = true;
      $("quiz-box").hidden = true;
      return false;
    }
    error.hidden = true;
    return true;
  }

  // The quiz is the step-through page's own (served whole, shown in a sandboxed frame):
  // the worked steps and gradients are hidden meanwhile, since they are its answers.
  async function quiz() {
    var reply = await request({type: "quiz", text: $("expr-text").value,
                               values: $("expr-values").value, digits: +$("quiz-digits").value});
    if (!expressionReply(reply)) { return; }
    $("expr-result").hidden = true;
    $("quiz-box").hidden = false;
    $("quiz-frame").srcdoc = reply.page;
    $("expr-quiz").setAttribute("aria-pressed", "true");
    state.quiz = reply;
  }

  function exprGo(k) {
    var e = state.expression;
    k = Math.max(0, Math.min(e.steps.length, k));
    state.exprStep = k;
    $("expr-counter").textContent = "step " + k + " / " + e.steps.length;
    $("expr-line").textContent = k === 0 ? "Forward pass: every value is known, no gradient yet." :
      e.steps[k - 1].line;
    $("expr-prev").disabled = k === 0;
    $("expr-next").disabled = k === e.steps.length;
    document.querySelectorAll("#expr-steps li").forEach(function (li, i) {
      li.classList.toggle("current", i === k - 1);
    });
    drawExpression(e, k);
  }

  function drawExpression(e, k) {
    var svg = $("expr-graph");
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var depth = {}, columns = [];
    e.nodes.forEach(function (n) {
      depth[n.id] = n.parents.reduce(function (d, p) { return Math.max(d, depth[p.id] + 1); }, 0);
      (columns[depth[n.id]] = columns[depth[n.id]] || []).push(n);
    });
    var BW = 120, BH = 46, GX = 70, GY = 16, pos = {};
    var tallest = Math.max.apply(null, columns.map(function (c) { return c.length; }));
    var W = columns.length * (BW + GX), H = tallest * (BH + GY) + 10;
    svg.setAttribute("width", W); svg.setAttribute("height", H);
    columns.forEach(function (col, c) {
      col.forEach(function (n, i) {
        pos[n.id] = [10 + c * (BW + GX), 5 + (i + (tallest - col.length) / 2) * (BH + GY)];
      });
    });
    // Gradients known after k steps: the root's seed, then each step's parent.
    var grads = {};
    if (k > 0) { grads[e.nodes[e.nodes.length - 1].id] = 1; }
    e.steps.slice(0, k).forEach(function (s) { grads[s.parent] = s.grad; });
    var active = k > 0 ? e.steps[k - 1] : null;
    e.nodes.forEach(function (n) {
      n.parents.forEach(function (p, index) {
        var a = pos[p.id], b = pos[n.id];
        var on = active && active.node === n.id && active.parent === p.id && active.index === index;
        var path = el("line", {x1: a[0] + BW, y1: a[1] + BH / 2, x2: b[0], y2: b[1] + BH / 2,
          "class": "edge" + (on ? " active" : "")}, svg);
        el("title", {}, path).textContent = "∂" + n.name + "/∂" + (e.nodes[p.id].name) + " = " +
          p.formula + " = " + fmt(p.local, 5);
        var t = el("text", {x: (a[0] + BW + b[0]) / 2, y: (a[1] + b[1]) / 2 + BH / 2 - 3,
          "text-anchor": "middle", "class": "local"}, svg);
        t.textContent = fmt(p.local, 4);
      });
    });
    e.nodes.forEach(function (n) {
      var p = pos[n.id];
      var receiving = active && active.parent === n.id, giving = active && active.node === n.id;
      var g = el("g", {"class": "value " + n.kind + (receiving ? " receiving" : "") +
        (giving ? " giving" : ""), "data-id": n.id}, svg);
      el("rect", {x: p[0], y: p[1], width: BW, height: BH, rx: 5}, g);
      el("text", {x: p[0] + 6, y: p[1] + 15}, g).textContent =
        (n.op ? "[" + n.op + "] " : "") + n.name;
      el("text", {x: p[0] + 6, y: p[1] + 29}, g).textContent = "data " + fmt(n.data, 4);
      var gt = el("text", {x: p[0] + 6, y: p[1] + 42, "class": "grad"}, g);
      gt.textContent = "grad " + (n.id in grads ? fmt(grads[n.id], 4) : "");
    });
  }

  // ---------------------------------------------------------------- tabs, wiring
  function selectTab(name) {
    ["network", "expression"].forEach(function (t) {
      $("tab-" + t).setAttribute("aria-selected", t === name ? "true" : "false");
      $("panel-" + t).hidden = t !== name;
    });
    if (name !== "network") { setPlaying(false); }
  }

  async function start() {
    $("tab-network").addEventListener("click", function () { selectTab("network"); });
    $("tab-expression").addEventListener("click", function () { selectTab("expression"); });
    $("play").addEventListener("click", function () { setPlaying(!state.playing); });
    $("step").addEventListener("click", function () {
      setPlaying(false);
      if (!state.busy) { trainOnce(1); }
    });
    $("reset").addEventListener("click", function () { configure(); });
    $("settings").addEventListener("change", function (event) {
      // Another dataset gets its own layer sizes (digits: 16 hidden units), unless the
      // address fixed them.
      if (event.target.id === "dataset" && !$("hidden").closest("label").hidden) {
        $("hidden").value = "";
      }
      configure();
    });
    $("edge-view").addEventListener("change", function () {
      if (state.frame) { drawNetwork(state.frame.network); }
    });
    $("network").addEventListener("click", onNetworkClick);
    $("network").addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onNetworkClick(event); }
    });
    $("save").addEventListener("click", async function () {
      var reply = await request({type: "save"});
      if (handleReply(reply)) {
        download("playground-step" + reply.state.steps + ".json", JSON.stringify(reply.state, null, 1));
      }
    });
    $("load").addEventListener("change", function () {
      var file = $("load").files[0];
      if (!file) { return; }
      file.text().then(function (text) {
        var saved;
        try { saved = JSON.parse(text); } catch (err) {
          showMessage(file.name + " is not a saved playground (not JSON): " + err.message);
          return;
        }
        configure({type: "load", state: saved});
      });
      $("load").value = "";
    });
    $("link").addEventListener("click", function () {
      var link = shareLink();
      showMessage("");
      var box = derivationBox("A link with these settings");
      para(box, link, "share-link");
      para(box, "Add &hide=dataset,hidden,lr (any control names) to fix settings for a class.");
    });
    $("expression-form").addEventListener("submit", function (event) {
      event.preventDefault();
      // A quiz-only link (hide=differentiate): Enter starts the quiz, never the answers.
      if ($("expr-go").hidden) { quiz(); } else { differentiate(); }
    });
    $("expr-quiz").addEventListener("click", quiz);
    $("expr-link").addEventListener("click", function () {
      $("expr-share").textContent = shareLink() + "  (add &hide=differentiate,network-tab " +
        "for a quiz the class cannot skip)";
      $("expr-share").hidden = false;
    });
    $("expr-prev").addEventListener("click", function () { exprGo(state.exprStep - 1); });
    $("expr-next").addEventListener("click", function () { exprGo(state.exprStep + 1); });
    $("expr-reset").addEventListener("click", function () { exprGo(0); });
    var connected = await connect();
    if (connected) {
      var offered = await request({type: "choices"});
      if (offered.type === "choices") { fillChoices(offered.choices); }
    }
    applyUrlParameters();  // after the menus are filled, so an address's choice is checked
    if (!connected) {
      showMessage("cannot reach the playground server; is `chainrule playground` still running, " +
                  "and did you open the full address with its token?");
      return;
    }
    var configured = await configure();
    if (params.get("quiz") === "1" || $("expr-go").hidden) { await quiz(); }
    else { await differentiate(); }
    if (configured && urlProblems.length) { showMessage(urlProblems.join("\n")); }
    if (params.get("play") === "1") { setPlaying(true); }
    document.body.setAttribute("data-ready", "true");
  }

  start();
})();
