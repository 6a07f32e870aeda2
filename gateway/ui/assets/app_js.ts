/**
 * The dashboard's script (`GET /ui/app.js`), plain browser JavaScript kept as a
 * string so the gateway serves it without file permissions or a build step.
 * Hash routes (#/cluster, #/topics, #/topics/NAME, #/groups, #/groups/NAME,
 * #/throughput) render with DOM calls (text only, never innerHTML); charts are
 * hand-written SVG polylines; live data comes from the server-sent events of
 * `GET /api/v1/dashboard/stream`, read with fetch so the bearer token can be
 * sent. Edit it here: it contains no backticks or dollar-brace sequences.
 * @module
 */

/** The JavaScript of `GET /ui/app.js`. */
export const APP_JS: string = String.raw`"use strict";
// kafka-analog dashboard: plain DOM, hand-written SVG charts, no dependencies.
// Every number comes from /api/v1/dashboard/* on this gateway (the coordinator
// console's answers, plus ListOffsets/Fetch for offsets and messages).

var TOKEN_KEY = "kafka-analog-token";
var POLL_MS = 2000;
var PROGRESS = { stop: "stopping", start: "starting", restart: "restarting" };
var CHART_WINDOW_MS = 5 * 60 * 1000;
var CHART_WINDOW_MIN_MS = 60 * 1000;
var COLORS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];

var main = document.getElementById("main");
var liveRegion = document.getElementById("live");
var toastBox = document.getElementById("toast");
var authBox = document.getElementById("auth");
var cleanup = [];

// ---- DOM helpers -----------------------------------------------------------

function h(tag, attrs, children) {
  var el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  Object.keys(attrs).forEach(function (k) {
    var v = attrs[k];
    if (v === null || v === undefined || v === false) return;
    if (k === "onclick" || k === "onsubmit" || k === "onchange" || k === "oninput") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "text") {
      el.textContent = String(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  });
}

function append(el, children) {
  if (children === null || children === undefined || children === false) return;
  if (Array.isArray(children)) {
    children.forEach(function (c) { append(el, c); });
  } else if (children instanceof Node) {
    el.appendChild(children);
  } else {
    el.appendChild(document.createTextNode(String(children)));
  }
}

var SVG_NS = "http://www.w3.org/2000/svg";

function s(tag, attrs, children) {
  var el = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
  append(el, children);
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

function table(caption, headers, rows, attrs) {
  return h("div", { class: "table-wrap" }, h("table", attrs || {}, [
    h("caption", { text: caption }),
    h("thead", null, h("tr", null, headers.map(function (t) { return h("th", { scope: "col", text: t }); }))),
    h("tbody", null, rows),
  ]));
}

function badge(state) {
  return h("span", { class: "badge badge-" + state, text: state });
}

function toast(message, kind) {
  clear(toastBox);
  toastBox.className = kind === "error" ? "toast toast-error" : "toast";
  toastBox.textContent = message;
  toastBox.hidden = false;
  var shown = message;
  setTimeout(function () {
    if (toastBox.textContent === shown) toastBox.hidden = true;
  }, 6000);
}

// ---- formatting ------------------------------------------------------------

function fmtUptime(ms) {
  if (!ms || ms < 0) return "-";
  var sec = Math.floor(ms / 1000);
  var d = Math.floor(sec / 86400), hr = Math.floor(sec / 3600) % 24, m = Math.floor(sec / 60) % 60;
  if (d > 0) return d + "d " + hr + "h";
  if (hr > 0) return hr + "h " + m + "m";
  if (m > 0) return m + "m " + (sec % 60) + "s";
  return sec + "s";
}

function fmtRate(v) {
  if (v >= 1000) return (v / 1000).toFixed(1) + "k";
  if (v >= 100) return v.toFixed(0);
  return String(Math.round(v * 10) / 10);
}

function fmtAgo(ms) {
  return ms >= 60000 ? Math.round(ms / 6000) / 10 + " min" : Math.round(ms / 1000) + " s";
}

function fmtNum(v) {
  return v === null || v === undefined ? "-" : String(v);
}

function fmtTime(ms) {
  var d = new Date(ms);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function fmtRetention(ms) {
  if (ms === undefined) return "cluster default";
  var n = Number(ms);
  if (n < 0) return "forever";
  if (n % 86400000 === 0) return n / 86400000 + " d";
  if (n % 3600000 === 0) return n / 3600000 + " h";
  if (n % 60000 === 0) return n / 60000 + " min";
  return n + " ms";
}

// ---- API ---------------------------------------------------------------------

function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
}

function ApiError(status, body) {
  var err = body && body.error ? body.error : { name: "HTTP_" + status, message: "HTTP " + status };
  this.status = status;
  this.name = err.name;
  this.message = err.name + ": " + err.message;
}
ApiError.prototype = Object.create(Error.prototype);

function headers(json) {
  var out = {};
  if (json) out["content-type"] = "application/json";
  var t = token();
  if (t) out.authorization = "Bearer " + t;
  return out;
}

function api(method, path, body) {
  return fetch(path, {
    method: method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  }).then(function (res) {
    if (res.status === 204) return null;
    return res.json().catch(function () { return null; }).then(function (json) {
      if (res.status === 401 || res.status === 403) showAuth(res.status);
      if (!res.ok) throw new ApiError(res.status, json);
      return json;
    });
  });
}

function showAuth(status) {
  authBox.hidden = false;
  var msg = document.getElementById("auth-message");
  msg.textContent = status === 403
    ? "The gateway did not accept this token. Enter another one."
    : "This gateway requires a bearer token.";
}

document.getElementById("auth-form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  var input = document.getElementById("auth-token");
  try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch (e) { /* private mode */ }
  input.value = "";
  authBox.hidden = true;
  route();
});

// Reads server-sent events from a fetch body (EventSource cannot send the bearer token).
function stream(path, onEvent, onState) {
  var controller = new AbortController();
  var stopped = false;
  function connect() {
    if (stopped) return;
    fetch(path, { headers: headers(false), signal: controller.signal, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) showAuth(res.status);
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        onState("live");
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) throw new Error("stream ended");
            buffer += decoder.decode(r.value, { stream: true });
            var at;
            while ((at = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, at);
              buffer = buffer.slice(at + 2);
              var event = "message", data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) event = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              if (data) onEvent(event, JSON.parse(data));
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        if (stopped) return;
        onState("reconnecting");
        setTimeout(connect, 3000);
      });
  }
  connect();
  return function () {
    stopped = true;
    controller.abort();
  };
}

// Runs fn now and every POLL_MS (never two at once) until the view changes.
function poll(fn) {
  var stopped = false, timer = null;
  function run() {
    if (stopped) return;
    Promise.resolve().then(fn).catch(function (err) { showError(err); }).then(function () {
      if (!stopped) timer = setTimeout(run, document.hidden ? POLL_MS * 5 : POLL_MS);
    });
  }
  run();
  cleanup.push(function () { stopped = true; clearTimeout(timer); });
}

function showError(err) {
  var box = document.getElementById("view-error");
  if (!box) return;
  box.hidden = false;
  box.textContent = "Could not load: " + (err && err.message ? err.message : String(err));
}

function hideError() {
  var box = document.getElementById("view-error");
  if (box) box.hidden = true;
}

function view(title, children) {
  clear(main);
  document.title = title + " · kafka-analog";
  append(main, [
    h("h1", { text: title }),
    h("p", { id: "view-error", class: "error", role: "alert", hidden: true }),
    children,
  ]);
}

function announce(text) {
  liveRegion.textContent = text;
}

// ---- confirmation dialog -----------------------------------------------------

function confirmDialog(title, message, confirmLabel) {
  return new Promise(function (resolve) {
    var dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title" });
    function done(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    append(dialog, h("form", { method: "dialog" }, [
      h("h2", { id: "dialog-title", text: title }),
      h("p", { text: message }),
      h("div", { class: "dialog-buttons" }, [
        h("button", { type: "button", class: "secondary", onclick: function () { done(false); }, text: "Cancel" }),
        h("button", { type: "button", class: "danger", "data-confirm": "", onclick: function () { done(true); }, text: confirmLabel }),
      ]),
    ]));
    dialog.addEventListener("cancel", function (ev) { ev.preventDefault(); done(false); });
    document.body.appendChild(dialog);
    dialog.showModal();
    dialog.querySelector("button.secondary").focus();
  });
}

// ---- charts (hand-written SVG) -----------------------------------------------

function niceMax(v) {
  if (v <= 0) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(v)));
  var n = v / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
}

// series: [{name, points: [[atMs, value]]}]
function lineChart(title, unit, series, nowMs) {
  var W = 640, H = 220, L = 52, R = 12, T = 12, B = 28;
  var max = 0, first = nowMs;
  series.forEach(function (se) {
    se.points.forEach(function (p) { if (p[1] > max) max = p[1]; if (p[0] < first) first = p[0]; });
  });
  max = niceMax(max);
  // The last 5 minutes at most; at least one, so a fresh page does not squeeze its points.
  var windowMs = Math.min(CHART_WINDOW_MS, Math.max(CHART_WINDOW_MIN_MS, nowMs - first));
  var start = nowMs - windowMs;
  function x(t) { return L + (W - L - R) * Math.max(0, t - start) / windowMs; }
  function y(v) { return T + (H - T - B) * (1 - v / max); }
  var latest = series.map(function (se) {
    var last = se.points[se.points.length - 1];
    return se.name + " " + (last ? fmtRate(last[1]) : "0") + " " + unit;
  }).join(", ");
  var svg = s("svg", {
    viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
    "aria-label": title + " over the last " + fmtAgo(windowMs) + ". Latest: " + (latest || "no data yet"),
  });
  [0, 0.5, 1].forEach(function (f) {
    var v = max * f;
    svg.appendChild(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, fmtRate(v)));
  });
  [["-" + fmtAgo(windowMs), start], ["-" + fmtAgo(windowMs / 2), start + windowMs / 2], ["now", nowMs]].forEach(function (t, i) {
    svg.appendChild(s("text", { x: x(t[1]), y: H - 8, "text-anchor": i === 0 ? "start" : i === 2 ? "end" : "middle", class: "tick" }, t[0]));
  });
  svg.appendChild(s("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
  series.forEach(function (se, i) {
    var pts = se.points.filter(function (p) { return p[0] >= start; })
      .map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); });
    if (pts.length === 0) return;
    if (pts.length === 1) {
      var xy = pts[0].split(",");
      svg.appendChild(s("circle", { cx: xy[0], cy: xy[1], r: 3, fill: COLORS[i % COLORS.length] }));
    } else {
      svg.appendChild(s("polyline", { points: pts.join(" "), fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 2 }));
    }
  });
  var legend = h("ul", { class: "legend" }, series.map(function (se, i) {
    return h("li", null, [h("span", { class: "swatch swatch-" + (i % COLORS.length), "aria-hidden": "true" }), se.name]);
  }));
  return h("figure", { class: "chart-box" }, [h("figcaption", { text: title + " (" + unit + ")" }), svg, legend]);
}

// ---- Cluster -----------------------------------------------------------------

function serviceName(sv) {
  return sv.kind === "broker" ? "broker-" + sv.id : sv.kind;
}

function serviceLabel(sv) {
  if (sv.kind === "broker") return "Broker " + sv.id;
  if (sv.kind === "producer") return "Writer gateway (producer)";
  if (sv.kind === "consumer") return "Reader gateway (consumer)";
  return "Coordinator";
}

function renderCluster() {
  var summary = h("div", { class: "cards" });
  var body = h("tbody");
  view("Cluster", [
    summary,
    h("div", { class: "table-wrap" }, h("table", { id: "services" }, [
      h("caption", { text: "Services (console: status, broker list)" }),
      h("thead", null, h("tr", null, ["Service", "State", "PID", "Port", "Uptime", "Partitions led", "Under-replicated", "Actions"]
        .map(function (t) { return h("th", { scope: "col", text: t }); }))),
      body,
    ])),
  ]);
  var busy = {};
  function act(sv, action) {
    var name = serviceName(sv);
    function go() {
      busy[name] = action;
      announce(serviceLabel(sv) + ": " + action + " requested");
      refresh();
      return api("POST", "/api/v1/dashboard/services/" + name + "/" + action)
        .then(function () {
          toast(serviceLabel(sv) + ": " + action + " done");
          announce(serviceLabel(sv) + ": " + action + " done");
        })
        .catch(function (err) { toast(serviceLabel(sv) + ": " + err.message, "error"); })
        .then(function () { delete busy[name]; return refresh(); });
    }
    if (sv.kind === "producer" && action !== "start") {
      return confirmDialog(
        action === "stop" ? "Stop the writer gateway?" : "Restart the writer gateway?",
        "This dashboard is served by the writer gateway: it will stop answering until the gateway is started again (console: producer start).",
        action === "stop" ? "Stop" : "Restart",
      ).then(function (yes) { if (yes) go(); });
    }
    return go();
  }
  function refresh() {
    return api("GET", "/api/v1/dashboard/cluster").then(function (data) {
      hideError();
      var brokers = {};
      data.brokers.forEach(function (b) { brokers[b.id] = b; });
      var alive = data.services.filter(function (sv) { return sv.kind === "broker" && sv.state === "alive"; }).length;
      var total = data.services.filter(function (sv) { return sv.kind === "broker"; }).length;
      var under = data.brokers.reduce(function (n, b) { return n + b.underReplicated; }, 0);
      var led = data.brokers.reduce(function (n, b) { return n + b.partitionsLed; }, 0);
      clear(summary);
      append(summary, [
        h("div", { class: "card", id: "brokers-alive" }, [h("span", { class: "card-value", text: alive + " / " + total }), h("span", { class: "card-label", text: "brokers alive" })]),
        h("div", { class: "card" }, [h("span", { class: "card-value", text: led }), h("span", { class: "card-label", text: "partitions with a leader" })]),
        h("div", { class: "card" + (under > 0 ? " card-warn" : "") }, [h("span", { class: "card-value", text: under }), h("span", { class: "card-label", text: "under-replicated" })]),
      ]);
      clear(body);
      data.services.forEach(function (sv) {
        var b = sv.kind === "broker" ? brokers[sv.id] : null;
        var name = serviceName(sv);
        var actions = sv.kind === "coordinator" ? h("span", { class: "muted", text: "-" }) : h("div", { class: "actions" },
          ["stop", "start", "restart"].map(function (action) {
            var disabled = !!busy[name] || (action === "start" && sv.state === "alive") || (action === "stop" && sv.state !== "alive");
            return h("button", {
              type: "button", class: action === "stop" ? "danger small" : "small",
              disabled: disabled, "aria-label": action + " " + serviceLabel(sv),
              "data-action": action, onclick: function () { act(sv, action); },
              text: action[0].toUpperCase() + action.slice(1),
            });
          }));
        append(body, h("tr", { "data-service": name, "data-state": sv.state }, [
          h("th", { scope: "row", text: serviceLabel(sv) }),
          h("td", null, busy[name] ? badge(PROGRESS[busy[name]]) : badge(sv.state)),
          h("td", { text: sv.pid > 0 ? sv.pid : "-" }),
          h("td", { text: sv.port }),
          h("td", { text: sv.state === "alive" ? fmtUptime(sv.uptimeMs) : "-" }),
          h("td", { class: "num", "data-col": "led", text: b ? b.partitionsLed : "-" }),
          h("td", { class: "num" + (b && b.underReplicated > 0 ? " warn" : ""), "data-col": "under", text: b ? b.underReplicated : "-" }),
          h("td", null, actions),
        ]));
      });
    });
  }
  poll(refresh);
}

// ---- Topics ------------------------------------------------------------------

function renderTopics() {
  var body = h("tbody");
  var nameInput = h("input", { id: "topic-name", name: "name", required: true, pattern: "[a-zA-Z0-9._\\-]+", maxlength: 249, autocomplete: "off" });
  var partitionsInput = h("input", { id: "topic-partitions", name: "partitions", type: "number", min: 1, max: 10000, placeholder: "default" });
  var rfInput = h("input", { id: "topic-rf", name: "replicationFactor", type: "number", min: 1, max: 64, placeholder: "default" });
  var retentionInput = h("input", { id: "topic-retention", name: "retentionMs", type: "number", min: -1, placeholder: "default" });
  var submit = h("button", { type: "submit", text: "Create topic" });
  var form = h("form", { class: "create-form", "aria-labelledby": "create-title", onsubmit: function (ev) {
    ev.preventDefault();
    var req = { name: nameInput.value.trim() };
    if (partitionsInput.value) req.partitions = Number(partitionsInput.value);
    if (rfInput.value) req.replicationFactor = Number(rfInput.value);
    if (retentionInput.value) req.retentionMs = Number(retentionInput.value);
    submit.disabled = true;
    api("POST", "/api/v1/dashboard/topics", req).then(function (res) {
      toast("Created topic " + res.topic.name);
      announce("Created topic " + res.topic.name);
      form.reset();
      return refresh();
    }).catch(function (err) {
      toast(err.message, "error");
    }).then(function () { submit.disabled = false; });
  } }, [
    h("h2", { id: "create-title", text: "Create a topic" }),
    h("div", { class: "fields" }, [
      h("label", { for: "topic-name" }, ["Name", nameInput]),
      h("label", { for: "topic-partitions" }, ["Partitions", partitionsInput]),
      h("label", { for: "topic-rf" }, ["Replication factor", rfInput]),
      h("label", { for: "topic-retention" }, ["Retention (ms, -1 = forever)", retentionInput]),
      submit,
    ]),
  ]);
  view("Topics", [
    form,
    h("div", { class: "table-wrap" }, h("table", { id: "topics" }, [
      h("caption", { text: "Topics (console: topic list)" }),
      h("thead", null, h("tr", null, ["Topic", "Partitions", "Replication factor", "Actions"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
      body,
    ])),
  ]);
  function remove(name) {
    confirmDialog("Delete topic " + name + "?", "Every message of " + name + " is deleted. This cannot be undone.", "Delete")
      .then(function (yes) {
        if (!yes) return;
        return api("DELETE", "/api/v1/dashboard/topics/" + encodeURIComponent(name)).then(function () {
          toast("Deleted topic " + name);
          announce("Deleted topic " + name);
          return refresh();
        }).catch(function (err) { toast(err.message, "error"); });
      });
  }
  function refresh() {
    return api("GET", "/api/v1/dashboard/topics").then(function (data) {
      hideError();
      clear(body);
      if (data.topics.length === 0) {
        append(body, h("tr", null, h("td", { colspan: 4, class: "muted", text: "No topics yet." })));
      }
      data.topics.forEach(function (t) {
        append(body, h("tr", { "data-topic": t.name }, [
          h("th", { scope: "row" }, h("a", { href: "#/topics/" + encodeURIComponent(t.name), text: t.name })),
          h("td", { class: "num", text: t.partitions }),
          h("td", { class: "num", text: t.replicationFactor }),
          h("td", null, h("button", { type: "button", class: "danger small", "aria-label": "Delete topic " + t.name, onclick: function () { remove(t.name); }, text: "Delete" })),
        ]));
      });
    });
  }
  poll(refresh);
}

function payloadCell(view) {
  if (view.kind === "null") return h("td", { class: "muted", text: "null" });
  var text = view.kind === "binary" ? view.hex : view.text;
  var label = view.kind === "avro" ? "avro #" + view.schemaId : view.kind;
  return h("td", { "data-kind": view.kind }, [
    h("span", { class: "kind kind-" + view.kind, text: label + (view.truncated ? ", first of " + view.bytes + " B" : "") }),
    h("pre", { text: text }),
  ]);
}

function renderTopic(name) {
  var body = h("tbody");
  var configs = h("dl", { class: "configs" });
  var partitionSelect = h("select", { id: "browse-partition" });
  var limitSelect = h("select", { id: "browse-limit" }, [10, 20, 50, 100].map(function (n) {
    return h("option", { value: n, selected: n === 20, text: n });
  }));
  var browseBody = h("tbody");
  var browseInfo = h("p", { class: "muted", id: "browse-info", "aria-live": "polite" });
  var lastEnds = null;
  view("Topic " + name, [
    h("p", null, h("a", { href: "#/topics", text: "← All topics" })),
    h("div", { class: "table-wrap" }, h("table", { id: "partitions" }, [
      h("caption", { text: "Partitions (console: topic describe; offsets: ListOffsets)" }),
      h("thead", null, h("tr", null, ["Partition", "Leader", "Replicas", "ISR", "Leader epoch", "Log start", "Log end"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
      body,
    ])),
    h("h2", { text: "Configs" }),
    configs,
    h("section", { "aria-labelledby": "browse-title" }, [
      h("h2", { id: "browse-title", text: "Messages" }),
      h("div", { class: "fields" }, [
        h("label", { for: "browse-partition" }, ["Partition", partitionSelect]),
        h("label", { for: "browse-limit" }, ["Latest", limitSelect]),
        h("button", { type: "button", id: "browse-refresh", onclick: function () { browse(); }, text: "Refresh" }),
      ]),
      browseInfo,
      h("div", { class: "table-wrap" }, h("table", { id: "messages" }, [
        h("caption", { text: "Latest messages, newest first (JSON and Avro decoded, binary as hex)" }),
        h("thead", null, h("tr", null, ["Offset", "Timestamp", "Key", "Value", "Headers"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
        browseBody,
      ])),
    ]),
  ]);
  partitionSelect.addEventListener("change", function () { lastEnds = null; browse(); });
  limitSelect.addEventListener("change", function () { browse(); });
  var browsing = false;
  function browse() {
    if (browsing || partitionSelect.value === "") return Promise.resolve();
    browsing = true;
    var p = partitionSelect.value;
    return api("GET", "/api/v1/dashboard/topics/" + encodeURIComponent(name) + "/partitions/" + p + "/messages?limit=" + limitSelect.value)
      .then(function (data) {
        browseInfo.textContent = "Partition " + data.partition + ": offsets " + data.logStartOffset + " to " + data.logEndOffset + ", showing " + data.messages.length + ".";
        clear(browseBody);
        if (data.messages.length === 0) {
          append(browseBody, h("tr", null, h("td", { colspan: 5, class: "muted", text: "No messages." })));
        }
        data.messages.forEach(function (m) {
          append(browseBody, h("tr", { "data-offset": m.offset }, [
            h("th", { scope: "row", class: "num", text: m.offset }),
            h("td", { text: fmtTime(m.timestamp) }),
            payloadCell(m.key),
            payloadCell(m.value),
            h("td", null, m.headers.length === 0 ? "-" : h("ul", { class: "plain" }, m.headers.map(function (hd) {
              return h("li", null, [hd.key + ": ", hd.value.kind === "null" ? "null" : (hd.value.kind === "binary" ? hd.value.hex : hd.value.text)]);
            }))),
          ]));
        });
      })
      .catch(function (err) { browseInfo.textContent = "Could not read messages: " + err.message; })
      .then(function () { browsing = false; });
  }
  function refresh() {
    return api("GET", "/api/v1/dashboard/topics/" + encodeURIComponent(name)).then(function (t) {
      hideError();
      clear(body);
      t.partitions.forEach(function (p) {
        var under = p.isr.length < p.replicas.length;
        append(body, h("tr", { "data-partition": p.partition, class: under ? "warn-row" : null }, [
          h("th", { scope: "row", class: "num", text: p.partition }),
          h("td", { class: "num", "data-col": "leader", text: p.leader < 0 ? "none" : p.leader }),
          h("td", { "data-col": "replicas", text: p.replicas.join(", ") }),
          h("td", { "data-col": "isr", text: p.isr.join(", ") + (under ? " (under-replicated)" : "") }),
          h("td", { class: "num", text: p.leaderEpoch }),
          h("td", { class: "num", "data-col": "start", text: p.logStartOffset === null ? (p.offsetsError || "-") : p.logStartOffset }),
          h("td", { class: "num", "data-col": "end", text: p.logEndOffset === null ? (p.offsetsError || "-") : p.logEndOffset }),
        ]));
      });
      clear(configs);
      var keys = Object.keys(t.configs).sort();
      if (keys.indexOf("retention.ms") < 0) {
        append(configs, [h("dt", { text: "retention" }), h("dd", { text: fmtRetention(undefined) })]);
      }
      keys.forEach(function (k) {
        append(configs, [h("dt", { text: k }), h("dd", { text: t.configs[k] + (k === "retention.ms" ? " (" + fmtRetention(t.configs[k]) + ")" : "") })]);
      });
      if (partitionSelect.options.length !== t.partitions.length) {
        var chosen = partitionSelect.value;
        clear(partitionSelect);
        t.partitions.forEach(function (p) {
          append(partitionSelect, h("option", { value: p.partition, selected: String(p.partition) === chosen, text: p.partition }));
        });
      }
      // Re-read the messages when the shown partition's end offset moves (not on others' errors).
      var shown = t.partitions.filter(function (p) { return String(p.partition) === partitionSelect.value; })[0];
      var key = partitionSelect.value + ":" + (shown ? shown.logEndOffset : "");
      if (shown && shown.logEndOffset !== null && key !== lastEnds) {
        lastEnds = key;
        return browse();
      }
    });
  }
  poll(refresh);
}

// ---- Consumer groups ---------------------------------------------------------------

function renderGroups() {
  var body = h("tbody");
  view("Consumer groups", h("div", { class: "table-wrap" }, h("table", { id: "groups" }, [
    h("caption", { text: "Groups (console: group list)" }),
    h("thead", null, h("tr", null, ["Group", "State", "Members"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
    body,
  ])));
  poll(function () {
    return api("GET", "/api/v1/dashboard/groups").then(function (data) {
      hideError();
      clear(body);
      if (data.groups.length === 0) append(body, h("tr", null, h("td", { colspan: 3, class: "muted", text: "No consumer groups yet." })));
      data.groups.forEach(function (g) {
        append(body, h("tr", { "data-group": g.group }, [
          h("th", { scope: "row" }, h("a", { href: "#/groups/" + encodeURIComponent(g.group), text: g.group })),
          h("td", null, badge(g.state)),
          h("td", { class: "num", text: g.members }),
        ]));
      });
    });
  });
}

function renderGroup(name) {
  var facts = h("dl", { class: "configs", id: "group-facts" });
  var members = h("tbody");
  var offsets = h("tbody");
  var chartBox = h("div", { id: "lag-chart", class: "chart-small" });
  var lagPoints = [];
  view("Group " + name, [
    h("p", null, h("a", { href: "#/groups", text: "← All groups" })),
    facts,
    chartBox,
    h("div", { class: "table-wrap" }, h("table", { id: "members" }, [
      h("caption", { text: "Members (console: group describe)" }),
      h("thead", null, h("tr", null, ["Member", "Client", "Partitions"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
      members,
    ])),
    h("div", { class: "table-wrap" }, h("table", { id: "offsets" }, [
      h("caption", { text: "Offsets and lag per partition" }),
      h("thead", null, h("tr", null, ["Topic", "Partition", "Committed", "End", "Lag"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
      offsets,
    ])),
  ]);
  function drawChart() {
    clear(chartBox);
    append(chartBox, lineChart("Lag of " + name, "messages", [{ name: name, points: lagPoints }], Date.now()));
  }
  drawChart();
  function addPoint(p) {
    var g = p.groups.filter(function (x) { return x.group === name; })[0];
    if (g) lagPoints.push([p.atMs, g.lag]);
    while (lagPoints.length > 0 && lagPoints[0][0] < Date.now() - CHART_WINDOW_MS) lagPoints.shift();
  }
  var stop = stream("/api/v1/dashboard/stream", function (event, data) {
    if (event === "history") { lagPoints = []; data.points.forEach(addPoint); }
    else if (event === "sample") addPoint(data);
    drawChart();
  }, function (st) { announceStream(st); });
  cleanup.push(stop);
  poll(function () {
    return api("GET", "/api/v1/dashboard/groups/" + encodeURIComponent(name)).then(function (g) {
      hideError();
      var totalLag = g.offsets.reduce(function (n, o) { return n + (o.lag || 0); }, 0);
      clear(facts);
      append(facts, [
        h("dt", { text: "State" }), h("dd", null, badge(g.state)),
        h("dt", { text: "Generation" }), h("dd", { text: g.generation }),
        h("dt", { text: "Protocol" }), h("dd", { text: g.protocol || "-" }),
        h("dt", { text: "Total lag" }), h("dd", { id: "total-lag", text: totalLag }),
      ]);
      clear(members);
      if (g.members.length === 0) append(members, h("tr", null, h("td", { colspan: 3, class: "muted", text: "No members." })));
      g.members.forEach(function (m) {
        append(members, h("tr", null, [
          h("th", { scope: "row", class: "mono", text: m.memberId }),
          h("td", { text: m.clientId }),
          h("td", { text: m.assignment.map(function (a) { return a.topic + "-" + a.partition; }).join(", ") || "-" }),
        ]));
      });
      clear(offsets);
      g.offsets.forEach(function (o) {
        append(offsets, h("tr", { "data-topic": o.topic, "data-partition": o.partition }, [
          h("th", { scope: "row", text: o.topic }),
          h("td", { class: "num", text: o.partition }),
          h("td", { class: "num", "data-col": "committed", text: fmtNum(o.committed) }),
          h("td", { class: "num", "data-col": "end", text: o.end }),
          h("td", { class: "num" + (o.lag ? " warn" : ""), "data-col": "lag", text: fmtNum(o.lag) }),
        ]));
      });
    });
  });
}

// ---- Throughput --------------------------------------------------------------

function announceStream(state) {
  var el = document.getElementById("stream-state");
  if (el) el.textContent = state === "live" ? "Live" : "Reconnecting…";
}

function renderThroughput() {
  var charts = h("div", { class: "charts", id: "throughput-charts" });
  var body = h("tbody");
  var points = [];
  view("Throughput", [
    h("p", { class: "muted" }, [
      "Produced: growth of each topic's end offsets. Consumed: growth of the offsets consumer groups commit. Sampled every 2 s while this page is open. ",
      h("span", { id: "stream-state", class: "badge", text: "Connecting…" }),
    ]),
    charts,
    h("div", { class: "table-wrap" }, h("table", { id: "rates" }, [
      h("caption", { text: "Latest rates (messages/s)" }),
      h("thead", null, h("tr", null, ["Topic", "Produced/s", "Consumed/s"].map(function (t) { return h("th", { scope: "col", text: t }); }))),
      body,
    ])),
  ]);
  function draw() {
    var now = Date.now();
    var topics = {};
    points.forEach(function (p) {
      p.topics.forEach(function (t) {
        var e = topics[t.topic] || (topics[t.topic] = { produced: [], consumed: [], peak: 0 });
        e.produced.push([p.atMs, t.producedPerSec]);
        e.consumed.push([p.atMs, t.consumedPerSec]);
        e.peak = Math.max(e.peak, t.producedPerSec, t.consumedPerSec);
      });
    });
    var names = Object.keys(topics).sort(function (a, b) { return topics[b].peak - topics[a].peak || (a < b ? -1 : 1); }).slice(0, COLORS.length).sort();
    clear(charts);
    append(charts, [
      lineChart("Produced", "msgs/s", names.map(function (n) { return { name: n, points: topics[n].produced }; }), now),
      lineChart("Consumed", "msgs/s", names.map(function (n) { return { name: n, points: topics[n].consumed }; }), now),
    ]);
    clear(body);
    var last = points[points.length - 1];
    if (!last) {
      append(body, h("tr", null, h("td", { colspan: 3, class: "muted", text: "Waiting for the second sample…" })));
      return;
    }
    last.topics.forEach(function (t) {
      append(body, h("tr", { "data-topic": t.topic }, [
        h("th", { scope: "row", text: t.topic }),
        h("td", { class: "num", "data-col": "produced", text: fmtRate(t.producedPerSec) }),
        h("td", { class: "num", "data-col": "consumed", text: fmtRate(t.consumedPerSec) }),
      ]));
    });
  }
  draw();
  var stop = stream("/api/v1/dashboard/stream", function (event, data) {
    if (event === "history") points = data.points.slice();
    else if (event === "sample") points.push(data);
    var cutoff = Date.now() - CHART_WINDOW_MS;
    while (points.length > 0 && points[0].atMs < cutoff) points.shift();
    draw();
  }, announceStream);
  cleanup.push(stop);
}

// ---- phone layout --------------------------------------------------------------

// Below 640 px the CSS shows each table row as a card: every cell names its column.
function labelCells() {
  main.querySelectorAll("table").forEach(function (tbl) {
    var names = Array.prototype.map.call(tbl.querySelectorAll("thead th"), function (th) { return th.textContent; });
    tbl.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (cell, i) {
        if (!cell.hasAttribute("data-label") && names[i] && !cell.hasAttribute("colspan")) cell.setAttribute("data-label", names[i]);
      });
    });
  });
}
new MutationObserver(labelCells).observe(main, { childList: true, subtree: true });

// ---- router ------------------------------------------------------------------

function route() {
  cleanup.forEach(function (fn) { fn(); });
  cleanup = [];
  announce("");
  var hash = location.hash || "#/cluster";
  var parts = hash.slice(2).split("/");
  var section = parts[0];
  var arg = null;
  if (parts.length > 1) {
    try {
      arg = decodeURIComponent(parts.slice(1).join("/"));
    } catch (err) {
      // Not valid percent-encoding (e.g. #/topics/%E0): show the cluster page instead.
      section = "cluster";
    }
  }
  document.querySelectorAll("nav a").forEach(function (a) {
    if (a.getAttribute("href") === "#/" + section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  if (section === "topics" && arg) renderTopic(arg);
  else if (section === "topics") renderTopics();
  else if (section === "groups" && arg) renderGroup(arg);
  else if (section === "groups") renderGroups();
  else if (section === "throughput") renderThroughput();
  else renderCluster();
}

window.addEventListener("hashchange", function () {
  route();
  main.focus();
});
route();
`;
