// The managers' dashboard: the figures of GET /v1/metrics/channels (per channel, queue, agent and
// period) and the router's live state (GET /v1/routing/queues and /v1/routing/agents), read again
// every few seconds. No framework, no build step, no library: the charts are SVG drawn here. Every
// text from the hub goes into the page as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 5000;

const state = {
  token: sessionStorage.getItem("dashboard.token"),
  user: JSON.parse(sessionStorage.getItem("dashboard.user") || "null"),
  window: sessionStorage.getItem("dashboard.window") || "today",
  timer: null,
  generation: 0,
  running: false,
};

const CHANNELS = ["voice", "sms", "email", "wechat", "wecom", "messenger", "instagram", "telegram", "webchat", "api"];
const CHANNEL_NAMES = {
  voice: "Voice", sms: "SMS", email: "E-mail", wechat: "WeChat", wecom: "WeCom", messenger: "Messenger",
  instagram: "Instagram", telegram: "Telegram", webchat: "Web chat", api: "API",
};
const CHANNEL_LABELS = {
  voice: "CALL", sms: "SMS", email: "MAIL", wechat: "微信", wecom: "企微", messenger: "FB", instagram: "IG",
  telegram: "TG", webchat: "WEB", api: "API",
};
const MEDIA = [["voice", "Voice"], ["messaging", "Messaging"], ["email", "E-mail"]];
const AGENT_STATES = ["idle", "busy", "wrapUp", "away"];

/// The figures a channel's tile shows: name, label, kind of number, what it means.
const HEADLINE = [
  ["offered", "Offered", "count", "Contacts that entered a queue"],
  ["handled", "Handled", "count", "Contacts that reached an agent"],
  ["serviceLevel", "Service level", "percent", "Handled within the queue's threshold, of those handled or abandoned (short abandons left out)"],
];
const DETAILS = [
  ["answerRate", "Answer rate", "percent", "Handled, of handled and abandoned"],
  ["averageSpeedOfAnswerSeconds", "ASA", "duration", "Average speed of answer: the wait before an agent took the contact"],
  ["abandoned", "Abandoned", "count", "Contacts that left the queue before an agent took them"],
  ["averageHandleSeconds", "AHT", "duration", "Average handle time, wrap-up included"],
  ["averageFirstResponseSeconds", "First response", "duration", "Average time to the first reply"],
  ["csatAverage", "CSAT", "score", "Average satisfaction score of the answered surveys"],
  ["deliverySuccessRate", "Delivery success", "percent", "Outbound messages the provider accepted, of those sent or failed"],
  ["slaBreaches", "SLA breaches", "count", "Ticket SLA targets missed"],
];
const SUMMARY = [
  ["offered", "Offered", "count"], ["handled", "Handled", "count"], ["abandoned", "Abandoned", "count"],
  ["answerRate", "Answer rate", "percent"], ["serviceLevel", "Service level", "percent"],
  ["averageSpeedOfAnswerSeconds", "ASA", "duration"], ["averageHandleSeconds", "AHT", "duration"],
  ["averageFirstResponseSeconds", "First response", "duration"], ["csatAverage", "CSAT", "score"],
];

// MARK: Small helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

const NUMBER = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/// A figure for people: counts with separators, rates as percent with one decimal, durations
/// as m:ss (h:mm:ss from an hour), "—" where there is no value.
function format(value, kind) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (kind) {
    case "percent": return (value * 100).toFixed(1) + "%";
    case "duration": return duration(value);
    case "score": return value.toFixed(2);
    default: return NUMBER.format(value);
  }
}

function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function figure(figures, name) {
  const value = figures ? figures[name] : null;
  return value === undefined ? null : value;
}

/// A value's element: its text formatted, its raw value in data-value ("" when there is none).
function valueNode(tag, figures, name, kind, className) {
  const value = figure(figures, name);
  return el(tag, { class: className, "data-figure": name, "data-value": value === null ? "" : String(value) }, format(value, kind));
}

function channelBadge(kind) {
  return el("span", { class: "channel " + kind, title: CHANNEL_NAMES[kind] || kind }, CHANNEL_LABELS[kind] || kind.slice(0, 4).toUpperCase());
}

let statusTimer = null;
function say(text) {
  const status = $("status");
  status.textContent = text;
  status.classList.add("shown");
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => status.classList.remove("shown"), 4000);
}

// MARK: REST

class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (error) { json = null; }
  if (!response.ok) throw new APIError(response.status, json && json.error ? json.error.message : response.statusText || "HTTP " + response.status);
  return json;
}

/// Every page of a listing of the router's live records.
async function everything(path) {
  const items = [];
  let after = "";
  for (let page = 0; page < 20; page++) {
    const answer = await api(`${path}?limit=1000${after ? "&after=" + encodeURIComponent(after) : ""}`);
    items.push(...(answer.items || []));
    if (!answer.next) break;
    after = answer.next;
  }
  return items;
}

/// The window as query parameters, and the period its charts are drawn by.
function windowQuery(kind) {
  switch (kind) {
    case "60m": return { params: "minutes=60", period: "hour", name: "per hour" };
    case "7d": return { params: "minutes=10080", period: "day", name: "per day (UTC)" };
    case "30d": return { params: "minutes=43200", period: "day", name: "per day (UTC)" };
    default: {
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0);
      if (Date.now() - midnight.getTime() < 60000) return { params: "minutes=1", period: "hour", name: "per hour" };
      return { params: "from=" + encodeURIComponent(midnight.toISOString()), period: "hour", name: "per hour" };
    }
  }
}

// MARK: Logging in and out

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  $("login-button").disabled = true;
  try {
    const response = await fetch("/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: $("login-name").value, password: $("login-password").value }),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : {};
    if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
    state.token = json.token;
    state.user = json.agent || null;
    sessionStorage.setItem("dashboard.token", json.token);
    sessionStorage.setItem("dashboard.user", JSON.stringify(state.user));
    $("login-password").value = "";
    start();
  } catch (error) {
    $("login-error").textContent = error.message;
  } finally {
    $("login-button").disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try {
    await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + state.token } });
  } catch (error) { /* already over */ }
  endSession("Logged out.");
});

function endSession(message) {
  state.generation++;
  state.running = false;
  clearTimeout(state.timer);
  sessionStorage.removeItem("dashboard.token");
  sessionStorage.removeItem("dashboard.user");
  state.token = null;
  state.user = null;
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

/// A logged-in agent who is not a supervisor: the session is ended at once (it can do nothing here).
async function refuse() {
  const name = state.user ? state.user.name : "This account";
  try {
    await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + state.token } });
  } catch (error) { /* nothing to undo */ }
  endSession(`${name} is not a supervisor: the dashboard is for supervisors and admins. Agents work in the inbox (/inbox).`);
}

function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("user-name").textContent = state.user ? state.user.name : "admin";
  $("user-role").textContent = state.user ? state.user.role : "";
  $("window").value = state.window;
  state.running = true;
  clearAlerts();
  refresh();
}

// MARK: Reading the figures

function refresh() {
  clearTimeout(state.timer);
  const generation = ++state.generation;
  load(generation).finally(() => {
    if (state.running && generation === state.generation) state.timer = setTimeout(refresh, POLL_MS);
  });
}

async function load(generation) {
  const query = windowQuery(state.window);
  const base = "/v1/metrics/channels?" + query.params;
  try {
    const [byChannel, total, series, byQueue, byAgent, queues, agents, accounts, alerts] = await Promise.all([
      api(base + "&groupBy=channel"),
      api(base + "&groupBy="),
      api(base + "&groupBy=" + query.period + "&figures=offered,handled,abandoned,serviceLevel,answerRate"),
      api(base + "&groupBy=queue"),
      api(base + "&groupBy=agent"),
      everything("/v1/routing/queues"),
      everything("/v1/routing/agents"),
      api("/v1/channels"),
      api("/v1/metrics/alerts"),
    ]);
    if (generation !== state.generation) return;
    renderRange(byChannel);
    renderSummary(total);
    renderTiles(byChannel, accounts.items || []);
    renderCharts(series, query);
    renderQueues(byQueue, byChannel.now, queues);
    renderAgentStates(byChannel);
    renderAgents(byAgent, agents);
    showAlerts((alerts.items || []).map(describeAlert));
    setUpdated(`updated ${new Date(byChannel.now.at).toLocaleTimeString()}`, "ok");
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.status === 401) endSession("Your session ended: log in again.");
    else if (error.status === 403) await refuse();
    else setUpdated("retrying: " + error.message, "bad");
  }
}

function setUpdated(text, kind) {
  const pill = $("updated");
  pill.textContent = text;
  pill.className = "pill " + kind;
}

function renderRange(report) {
  const from = new Date(report.from);
  const to = new Date(report.to);
  const sameDay = from.toDateString() === to.toDateString();
  const day = { month: "short", day: "numeric" };
  const clock = { hour: "2-digit", minute: "2-digit" };
  $("range").textContent = sameDay
    ? `${from.toLocaleDateString(undefined, day)}, ${from.toLocaleTimeString(undefined, clock)} – ${to.toLocaleTimeString(undefined, clock)}`
    : `${from.toLocaleDateString(undefined, day)} ${from.toLocaleTimeString(undefined, clock)} – ${to.toLocaleDateString(undefined, day)} ${to.toLocaleTimeString(undefined, clock)}`;
}

function renderSummary(report) {
  const group = (report.groups || []).find((g) => g.channel === undefined && g.queue === undefined) || { figures: {} };
  const box = $("summary-figures");
  box.replaceChildren();
  for (const [name, label, kind] of SUMMARY) {
    box.append(el("div", { class: "kpi" }, valueNode("span", group.figures, name, kind, "kpi-value"), el("span", { class: "kpi-label" }, label)));
  }
}

// MARK: Channel tiles

function renderTiles(report, accounts) {
  const figures = new Map();
  for (const group of report.groups || []) {
    // Agents' time is counted on the channel "": it belongs to the agents' panel, not here.
    if (group.channel) figures.set(group.channel, group.figures);
  }
  const accountCount = new Map();
  for (const account of accounts) accountCount.set(account.kind, (accountCount.get(account.kind) || 0) + 1);
  const kinds = new Set([...accountCount.keys(), ...figures.keys()]);
  const ordered = [...kinds].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const tiles = $("tiles");
  tiles.replaceChildren();
  for (const kind of ordered) {
    const data = figures.get(kind) || null;
    const count = accountCount.get(kind) || 0;
    const headline = el("div", { class: "headline" });
    for (const [name, label, type, help] of HEADLINE) {
      headline.append(el("div", { class: "big", title: help }, valueNode("span", data, name, type, "value"), el("span", { class: "label" }, label)));
    }
    const details = el("dl", { class: "details" });
    for (const [name, label, type, help] of DETAILS) {
      details.append(el("div", { class: "detail", title: help }, el("dt", {}, label), valueNode("dd", data, name, type)));
    }
    const quiet = !data || !figure(data, "offered");
    tiles.append(el("article", { class: "card tile" + (quiet ? " quiet" : ""), "data-channel": kind },
      el("header", {}, channelBadge(kind), el("h3", {}, CHANNEL_NAMES[kind] || kind),
        el("span", { class: "muted accounts" }, count === 1 ? "1 account" : count > 1 ? `${count} accounts` : "")),
      headline, details));
  }
  $("no-channels").hidden = ordered.length > 0;
}

function rank(kind) {
  const index = CHANNELS.indexOf(kind);
  return index < 0 ? CHANNELS.length : index;
}

// MARK: Charts

function renderCharts(report, query) {
  $("period-name").textContent = query.period === "hour" ? "· per hour" : "· per day (UTC)";
  const step = (query.period === "hour" ? 60 : 1440) * 60000;
  const byPeriod = new Map();
  for (const group of report.groups || []) {
    if (group.period) byPeriod.set(Date.parse(group.period), group.figures);
  }
  const start = Math.floor(Date.parse(report.from) / step) * step;
  const end = Date.parse(report.to);
  const periods = [];
  for (let at = start; at < end && periods.length < 800; at += step) periods.push(at);
  const label = query.period === "hour"
    ? (at) => new Date(at).toLocaleTimeString(undefined, HOUR_LABEL)
    : (at) => new Date(at).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  const column = (name) => periods.map((at) => figure(byPeriod.get(at), name));
  barChart($("chart-volume"), periods.map(label), [
    { name: "offered", label: "Offered", values: column("offered") },
    { name: "handled", label: "Handled", values: column("handled") },
    { name: "abandoned", label: "Abandoned", values: column("abandoned") },
  ]);
  lineChart($("chart-service"), periods.map(label), [
    { name: "serviceLevel", label: "Service level", values: column("serviceLevel") },
    { name: "answerRate", label: "Answer rate", values: column("answerRate") },
  ]);
}

// Periods are whole UTC hours: where the local offset is not whole hours, their minutes show.
const HOUR_LABEL = new Date().getTimezoneOffset() % 60 === 0 ? { hour: "numeric" } : { hour: "numeric", minute: "2-digit" };
const CHART = { width: 640, height: 250, left: 44, right: 14, top: 14, bottom: 30 };

function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (factor * power >= raw) return factor * power;
  }
  return 10 * power;
}

/// The frame of a chart: the SVG, horizontal grid lines with their labels, x labels (thinned out
/// so they never overlap), and a function from a value to its y.
function frame(labels, top, ticks, tickText) {
  const { width, height, left, right, bottom } = CHART;
  const plotHeight = height - CHART.top - bottom;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "plot", role: "img" });
  const y = (value) => CHART.top + plotHeight - (value / top) * plotHeight;
  for (const tick of ticks) {
    root.append(svg("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: tick === 0 ? "axis" : "grid" }));
    root.append(svg("text", { x: left - 6, y: y(tick) + 4, class: "tick", "text-anchor": "end" }, tickText(tick)));
  }
  const slot = (width - left - right) / Math.max(labels.length, 1);
  const every = Math.max(1, Math.ceil(labels.length / Math.floor((width - left - right) / 56)));
  labels.forEach((text, index) => {
    if (index % every !== 0) return;
    root.append(svg("text", { x: left + slot * (index + 0.5), y: height - bottom + 18, class: "tick", "text-anchor": "middle" }, text));
  });
  return { root, y, slot };
}

function legend(series) {
  return el("ul", { class: "legend" }, ...series.map((s) => el("li", {}, el("span", { class: "swatch " + s.name }), s.label)));
}

function emptyNote(root, text) {
  root.append(svg("text", { x: (CHART.width + CHART.left - CHART.right) / 2, y: CHART.height / 2 - 6, class: "empty-note", "text-anchor": "middle" }, text));
}

function barChart(container, labels, series) {
  const max = Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0)));
  const step = max <= 4 ? 1 : niceStep(max / 4);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks = [];
  for (let tick = 0; tick <= top + step / 2; tick += step) ticks.push(tick);
  const { root, y, slot } = frame(labels, top, ticks, (tick) => NUMBER.format(tick));
  const groupWidth = Math.min(slot * 0.78, 54);
  const barWidth = groupWidth / series.length;
  labels.forEach((text, index) => {
    const x0 = CHART.left + slot * index + (slot - groupWidth) / 2;
    const group = svg("g", { class: "period", "data-period": index },
      svg("title", {}, `${text}: ` + series.map((s) => `${s.label.toLowerCase()} ${format(s.values[index], "count")}`).join(", ")));
    group.append(svg("rect", { x: CHART.left + slot * index, y: CHART.top, width: slot, height: y(0) - CHART.top, class: "hover" }));
    series.forEach((s, n) => {
      const value = s.values[index] || 0;
      if (value <= 0) return;
      const height = Math.max(1, y(0) - y(value));
      group.append(svg("rect", { x: x0 + n * barWidth + 0.5, y: y(0) - height, width: Math.max(1, barWidth - 1), height, rx: 1.5, class: "bar " + s.name }));
    });
    root.append(group);
  });
  if (max === 0) emptyNote(root, "No contacts in this window");
  container.replaceChildren(legend(series), root);
}

function lineChart(container, labels, series) {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const { root, y, slot } = frame(labels, 1, ticks, (tick) => `${Math.round(tick * 100)}%`);
  const x = (index) => CHART.left + slot * (index + 0.5);
  let any = false;
  for (const s of series) {
    let path = "";
    let pen = false;
    s.values.forEach((value, index) => {
      if (value === null || value === undefined) { pen = false; return; }
      path += `${pen ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)} `;
      pen = true;
    });
    if (path) root.append(svg("path", { d: path.trim(), class: "line " + s.name }));
    s.values.forEach((value, index) => {
      if (value === null || value === undefined) return;
      any = true;
      root.append(svg("circle", { cx: x(index), cy: y(value), r: 3.5, class: "dot " + s.name },
        svg("title", {}, `${labels[index]}: ${s.label.toLowerCase()} ${format(value, "percent")}`)));
    });
  }
  if (!any) emptyNote(root, "Nothing answered or abandoned in this window");
  container.replaceChildren(legend(series), root);
}

// MARK: Queues

function renderQueues(report, now, routingQueues) {
  const rows = new Map();
  const row = (id) => {
    if (!rows.has(id)) rows.set(id, { id, figures: null, waiting: 0, longest: null, channels: new Set(), routing: null });
    return rows.get(id);
  };
  for (const queue of routingQueues) row(queue.id).routing = queue;
  for (const group of report.groups || []) {
    if (group.queue) row(group.queue).figures = group.figures;
  }
  for (const waiting of (now && now.queues) || []) {
    const entry = row(waiting.queue);
    entry.waiting += waiting.waiting;
    entry.longest = Math.max(entry.longest || 0, waiting.longestWaitSeconds);
    if (waiting.channel) entry.channels.add(waiting.channel);
  }
  const body = $("queue-rows");
  body.replaceChildren();
  const sorted = [...rows.values()].sort((a, b) => b.waiting - a.waiting || a.id.localeCompare(b.id));
  for (const entry of sorted) {
    const staffed = staffing(entry.routing);
    const waitingCell = el("td", { class: "num" + (entry.waiting > 0 ? " alert-value" : ""), "data-figure": "waiting", "data-value": String(entry.waiting) },
      NUMBER.format(entry.waiting));
    const channels = el("span", { class: "queue-channels" }, ...[...entry.channels].sort().map(channelBadge));
    body.append(el("tr", { "data-queue": entry.id },
      el("th", { scope: "row" }, el("span", { class: "queue-name" }, entry.id), channels),
      waitingCell,
      el("td", { class: "num", "data-figure": "longestWaitSeconds", "data-value": entry.longest === null ? "" : String(entry.longest) },
        format(entry.longest, "duration")),
      el("td", { class: "num", "data-figure": "staffed", "data-value": staffed ? String(staffed.staffed) : "", title: staffed ? staffed.title : null },
        staffed ? NUMBER.format(staffed.staffed) : "—"),
      el("td", { class: "num", "data-figure": "free", "data-value": staffed ? String(staffed.free) : "", title: staffed ? staffed.title : null },
        staffed ? NUMBER.format(staffed.free) : "—"),
      valueNode("td", entry.figures, "offered", "count", "num"),
      valueNode("td", entry.figures, "handled", "count", "num"),
      valueNode("td", entry.figures, "abandoned", "count", "num"),
      valueNode("td", entry.figures, "answerRate", "percent", "num"),
      valueNode("td", entry.figures, "serviceLevel", "percent", "num"),
      valueNode("td", entry.figures, "averageSpeedOfAnswerSeconds", "duration", "num"),
      valueNode("td", entry.figures, "averageHandleSeconds", "duration", "num")));
  }
  $("no-queues").hidden = sorted.length > 0;
}

/// Agents on a queue now, from the router: the busiest medium's staffing (an agent counts once
/// per medium it takes).
function staffing(queue) {
  if (!queue || !queue.media) return null;
  let best = null;
  const parts = [];
  for (const [medium, name] of MEDIA) {
    const media = queue.media[medium];
    if (!media) continue;
    parts.push(`${name}: ${media.staffed} staffed, ${media.free} free`);
    if (!best || media.staffed > best.staffed) best = { staffed: media.staffed, free: media.free };
  }
  return best ? { ...best, title: parts.join("\n") } : null;
}

// MARK: Agents

function renderAgentStates(report) {
  const counts = new Map();
  for (const item of (report.now && report.now.agents) || []) counts.set(`${item.medium}/${item.state}`, item.count);
  const body = $("state-rows");
  body.replaceChildren();
  let loggedIn = 0;
  for (const [medium, name] of MEDIA) {
    const cells = AGENT_STATES.map((agentState) => {
      const count = counts.get(`${medium}/${agentState}`) || 0;
      return el("td", { class: "num state " + agentState + (count ? "" : " zero"), "data-medium": medium, "data-state": agentState, "data-value": String(count) },
        NUMBER.format(count));
    });
    loggedIn = Math.max(loggedIn, AGENT_STATES.reduce((sum, s) => sum + (counts.get(`${medium}/${s}`) || 0), 0));
    body.append(el("tr", { "data-medium": medium }, el("th", { scope: "row" }, name), ...cells));
  }
  // The agents' own time is counted on the channel "".
  const team = (report.groups || []).find((group) => group.channel === "");
  const figures = team ? team.figures : null;
  const list = $("team");
  list.replaceChildren(
    el("div", {}, el("dt", {}, "Logged in now"), el("dd", { "data-figure": "loggedInNow", "data-value": String(loggedIn) }, NUMBER.format(loggedIn))),
    el("div", { title: "Busy time over busy and idle time" }, el("dt", {}, "Occupancy"), valueNode("dd", figures, "occupancy", "percent")),
    el("div", { title: "Busy time over logged-in time" }, el("dt", {}, "Utilization"), valueNode("dd", figures, "utilization", "percent")),
    el("div", {}, el("dt", {}, "Logged-in time"), valueNode("dd", figures, "loggedInSeconds", "duration")));
}

function renderAgents(report, routingAgents) {
  const rows = new Map();
  for (const agent of routingAgents) rows.set(agent.id, { id: agent.id, routing: agent, figures: null });
  for (const group of report.groups || []) {
    if (!group.agent) continue;
    if (!rows.has(group.agent)) rows.set(group.agent, { id: group.agent, routing: null, figures: null });
    rows.get(group.agent).figures = group.figures;
  }
  const order = { available: 0, away: 1, offline: 2 };
  const presenceOf = (entry) => (entry.routing && entry.routing.presence ? entry.routing.presence.state : "offline");
  const sorted = [...rows.values()]
    .filter((entry) => !entry.routing || entry.routing.active !== false || entry.figures)
    .sort((a, b) => (order[presenceOf(a)] ?? 3) - (order[presenceOf(b)] ?? 3) || a.id.localeCompare(b.id));
  const body = $("agent-rows");
  body.replaceChildren();
  for (const entry of sorted) {
    const routing = entry.routing;
    const presence = presenceOf(entry);
    const wrapping = routing && (routing.wrapUps || []).length > 0;
    const presenceCell = el("td", { "data-figure": "presence", "data-value": presence },
      el("span", { class: "presence " + presence, title: routing && routing.presence && routing.presence.reason ? routing.presence.reason : null }, presence),
      wrapping ? el("span", { class: "pill wrapping" }, "wrap-up") : null);
    body.append(el("tr", { "data-agent": entry.id },
      el("th", { scope: "row" }, entry.id),
      presenceCell,
      el("td", { class: "num", "data-figure": "load", "data-value": routing ? JSON.stringify(routing.load) : "" }, inHand(routing)),
      valueNode("td", entry.figures, "handled", "count", "num"),
      valueNode("td", entry.figures, "averageHandleSeconds", "duration", "num"),
      valueNode("td", entry.figures, "occupancy", "percent", "num"),
      valueNode("td", entry.figures, "utilization", "percent", "num"),
      valueNode("td", entry.figures, "csatAverage", "score", "num"),
      valueNode("td", entry.figures, "loggedInSeconds", "duration", "num")));
  }
  $("no-agents").hidden = sorted.length > 0;
}

function inHand(routing) {
  if (!routing || !routing.load) return "—";
  const parts = [];
  const { voice = 0, messaging = 0, email = 0 } = routing.load;
  if (voice) parts.push(voice === 1 ? "1 call" : `${voice} calls`);
  if (messaging) parts.push(messaging === 1 ? "1 chat" : `${messaging} chats`);
  if (email) parts.push(email === 1 ? "1 mail" : `${email} mails`);
  return parts.length ? parts.join(", ") : "—";
}

// MARK: Active alerts

// The alerts of routing-rules/ (metrics.alerts) raised now, from GET /v1/metrics/alerts:
// {id, severity: "warning" | "critical", title, detail, at}; "none" when there are none.
function describeAlert(alert) {
  const seconds = /Seconds$/.test(alert.figure || "");
  const rate = !seconds && alert.threshold <= 1 && /Rate$|serviceLevel|occupancy|utilization/.test(alert.figure || "");
  const show = (value) => seconds ? `${Math.round(value)} s` : rate ? `${(value * 100).toFixed(1)}%` : String(value);
  const scope = [alert.channel, alert.queue].filter(Boolean).join(" / ");
  return {
    id: alert.id, severity: "critical", title: alert.name || alert.id,
    detail: `${alert.figure} ${show(alert.value)}, ${alert.comparison} ${show(alert.threshold)}${scope ? " (" + scope + ")" : ""}`,
    at: alert.at,
  };
}

function showAlerts(alerts) {
  const list = $("alert-list");
  list.replaceChildren();
  for (const alert of alerts) {
    list.append(el("li", { class: "alert " + (alert.severity || "warning"), "data-alert": alert.id || "" },
      el("strong", {}, alert.title || ""), alert.detail ? el("span", {}, alert.detail) : null,
      alert.at ? el("time", { datetime: alert.at, class: "muted" }, new Date(alert.at).toLocaleTimeString()) : null));
  }
  $("alerts").dataset.alerts = String(alerts.length);
  $("no-alerts").hidden = alerts.length > 0;
}

function clearAlerts() { showAlerts([]); }

// MARK: Export

$("export").addEventListener("click", async () => {
  const query = windowQuery(state.window);
  const button = $("export");
  button.disabled = true;
  try {
    const response = await fetch(`/v1/metrics/channels?${query.params}&groupBy=channel,${query.period}&format=csv`, {
      headers: { Authorization: "Bearer " + state.token, Accept: "text/csv" },
    });
    if (!response.ok) throw new Error(`export failed (HTTP ${response.status})`);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    const link = el("a", { href: url, download: `switchboard-metrics-${state.window}-${stamp}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    say(error.message);
  } finally {
    button.disabled = false;
  }
});

// MARK: Controls

$("window").addEventListener("change", (event) => {
  state.window = event.target.value;
  sessionStorage.setItem("dashboard.window", state.window);
  setUpdated("loading…", "");
  refresh();
});

$("refresh").addEventListener("click", () => refresh());

if (state.token) start();
