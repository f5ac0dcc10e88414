// The agents' inbox: one page over the agent WebSocket (docs/agent-protocol.md) and a little REST.
// No framework, no build step; every text from the hub goes into the page as text, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem("token"),
  agent: JSON.parse(sessionStorage.getItem("agent") || "null"),
  lastSeq: Number(sessionStorage.getItem("lastSeq") || 0) || null,
  ws: null,
  pending: new Map(),
  nextId: 1,
  conversations: new Map(),
  selected: null,
  detail: null,
  offers: new Map(),
  wrapUps: new Set(),
  reconnectDelay: 500,
  closing: false,
};

const CHANNEL_LABELS = {
  voice: "CALL", sms: "SMS", email: "MAIL", wechat: "微信", wecom: "企微", messenger: "FB", instagram: "IG",
  telegram: "TG", webchat: "WEB", api: "API",
};

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function channelBadge(kind) {
  return el("span", { class: "channel " + kind, title: kind }, CHANNEL_LABELS[kind] || kind);
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

let statusTimer = null;
function say(text) {
  const status = $("status");
  status.textContent = text;
  status.classList.add("shown");
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => status.classList.remove("shown"), 4000);
}

function clientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

// MARK: REST

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + state.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(json && json.error ? json.error.message : response.statusText);
  return json;
}

// MARK: Logging in and out

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const response = await fetch("/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: $("login-name").value, password: $("login-password").value }),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
    state.token = json.token;
    state.agent = json.agent;
    state.lastSeq = null;
    sessionStorage.setItem("token", json.token);
    sessionStorage.setItem("agent", JSON.stringify(json.agent));
    sessionStorage.removeItem("lastSeq");
    start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/v1/auth/logout"); } catch (error) { /* already over */ }
  endSession("Logged out.");
});

function endSession(message) {
  state.closing = true;
  if (state.ws) state.ws.close();
  sessionStorage.clear();
  state.token = null;
  state.conversations.clear();
  state.offers.clear();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

// MARK: The socket

function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("agent-name").textContent = state.agent ? state.agent.name : "";
  $("agent-role").textContent = state.agent ? state.agent.role : "";
  state.closing = false;
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/agent/ws?access_token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  setConnection("connecting…", "");
  ws.onopen = async () => {
    try {
      const hello = { type: "hello" };
      if (state.lastSeq) hello.resumeFrom = state.lastSeq;
      const welcome = await request(hello);
      state.reconnectDelay = 500;
      setConnection("connected", "ok");
      applyState(welcome.state);
      if (!state.lastSeq) remember(welcome.sequence);
    } catch (error) {
      say(error.message);
    }
  };
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.id && state.pending.has(frame.id)) {
      const { resolve, reject } = state.pending.get(frame.id);
      state.pending.delete(frame.id);
      if (frame.type === "error") reject(new Error(frame.message));
      else resolve(frame);
      return;
    }
    if (frame.type === "event") handleEvent(frame);
    else if (frame.type === "resync") {
      applyState(frame.state);
      remember(frame.sequence);
    } else if (frame.type === "error") say(frame.message);
  };
  ws.onclose = (event) => {
    for (const { reject } of state.pending.values()) reject(new Error("disconnected"));
    state.pending.clear();
    if (state.closing) return;
    if (event.code === 4401 || event.code === 4403) {
      endSession("Your session ended: log in again.");
      return;
    }
    setConnection("reconnecting…", "bad");
    setTimeout(connect, state.reconnectDelay);
    state.reconnectDelay = Math.min(state.reconnectDelay * 2, 15000);
  };
}

function setConnection(text, kind) {
  const pill = $("connection");
  pill.textContent = text;
  pill.className = "pill " + kind;
}

function request(frame) {
  return new Promise((resolve, reject) => {
    const id = "c" + state.nextId++;
    state.pending.set(id, { resolve, reject });
    state.ws.send(JSON.stringify({ ...frame, id }));
  });
}

function remember(seq) {
  if (!seq || (state.lastSeq && seq <= state.lastSeq)) return;
  state.lastSeq = seq;
  sessionStorage.setItem("lastSeq", String(seq));
}

// MARK: State and events

function applyState(snapshot) {
  if (!snapshot) return;
  if (snapshot.agent) {
    $("agent-name").textContent = snapshot.agent.name;
    $("agent-role").textContent = snapshot.agent.role;
  }
  if (snapshot.routing) applyRouting(snapshot.routing);
  state.conversations.clear();
  for (const conversation of snapshot.conversations || []) state.conversations.set(conversation.id, conversation);
  renderConversations();
  for (const offer of state.offers.values()) clearInterval(offer.timer);
  state.offers.clear();
  $("offers").replaceChildren();
  for (const pop of snapshot.offers || []) {
    if (pop.offer) showOffer(pop.offer, pop);
  }
}

function applyRouting(routing) {
  $("presence").value = routing.presence ? routing.presence.state : "offline";
  const load = routing.load || {};
  $("load").textContent = `calls ${load.voice || 0} · chats ${load.messaging || 0} · mails ${load.email || 0}`;
  state.wrapUps = new Set(routing.wrapUps || []);
  renderWrapUp();
}

let routingRefresh = null;
/// The agent's load and wrap-ups, read again shortly after something changed them.
function refreshRouting() {
  clearTimeout(routingRefresh);
  routingRefresh = setTimeout(async () => {
    try { applyRouting(await api("GET", `/v1/agents/${encodeURIComponent(state.agent.id)}/routing`)); } catch (error) { /* next time */ }
  }, 200);
}

function handleEvent(event) {
  remember(event.seq);
  if (["routing.assigned", "agent.wrapup", "offer.created", "offer.ended"].includes(event.kind) && state.agent
      && (event.refs || {}).agentId === state.agent.id) refreshRouting();
  const data = event.data || {};
  const refs = event.refs || {};
  const mine = state.agent && refs.agentId === state.agent.id;
  switch (event.kind) {
    case "offer.created":
      if (mine) showOffer(data, event.screenPop);
      break;
    case "offer.ended":
      removeOffer(data.offerId, data.reason);
      break;
    case "routing.assigned":
      if (mine) assigned(refs.conversationId);
      break;
    case "conversation.updated": {
      const conversation = data.conversation;
      if (!conversation) break;
      if (state.agent && conversation.assigneeId === state.agent.id) state.conversations.set(conversation.id, conversation);
      else state.conversations.delete(conversation.id);
      renderConversations();
      if (state.selected === conversation.id && state.detail) {
        state.detail.conversation = conversation;
        renderHeader();
      }
      break;
    }
    case "message.received":
    case "message.queued":
    case "message.noted":
      if (state.selected && refs.conversationId === state.selected) appendTimeline(event);
      if (event.kind === "message.received" && refs.conversationId !== state.selected) say("New message in another conversation");
      break;
    case "message.status":
      markStatus(data.messageId, data.status, data.error);
      break;
    case "agent.wrapup":
      if (!mine) break;
      if (data.state === "started") state.wrapUps.add(refs.conversationId);
      else state.wrapUps.delete(refs.conversationId);
      renderWrapUp();
      break;
    case "agent.presence":
      if (mine && data.presence) $("presence").value = data.presence.state;
      break;
    default:
      if (state.selected && refs.conversationId === state.selected) appendTimeline(event);
  }
}

// MARK: Offers

function showOffer(offer, pop) {
  if (state.offers.has(offer.offerId)) return;
  const countdown = el("span", { class: "countdown" });
  const customer = pop && pop.customer ? pop.customer.customer : {};
  const conversation = pop ? pop.conversation : null;
  const handles = pop && pop.customer ? pop.customer.handles.map((h) => `${h.kind} ${h.address}`).join(" · ") : "";
  const history = el("ol", { class: "history" });
  for (const entry of (pop ? pop.timeline : []).filter((e) => e.data && e.data.text).slice(-5)) {
    history.append(el("li", {}, channelLabel(entry), " ", entry.data.text));
  }
  const why = offer.explanation
    ? `Why you: ${offer.explanation.stepName}${offer.explanation.tier ? ", tier " + offer.explanation.tier : ""}, ${offer.explanation.strategyKey}`
    : "";
  const accept = el("button", { class: "primary accept", type: "button" }, "Accept");
  const reject = el("button", { class: "danger reject", type: "button" }, "Reject");
  const card = el("div", { class: "offer", "data-offer": offer.offerId },
    el("div", {}, conversation ? channelBadge(conversation.channelKind) : null, " ",
      el("strong", {}, customer.name || "Customer"), " ", el("span", { class: "pill" }, customer.tier || "standard"),
      " ", el("span", { class: "muted" }, handles)),
    history,
    el("div", { class: "muted" }, why),
    el("div", { class: "actions" }, accept, reject, countdown));
  accept.addEventListener("click", async () => {
    accept.disabled = true;
    try { await request({ type: "offer.accept", offerId: offer.offerId }); } catch (error) { say(error.message); accept.disabled = false; }
  });
  reject.addEventListener("click", async () => {
    try { await request({ type: "offer.reject", offerId: offer.offerId, reason: "declined" }); } catch (error) { say(error.message); }
  });
  const expires = new Date(offer.expiresAt).getTime();
  const tick = () => {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    countdown.textContent = `${left}s`;
  };
  tick();
  const timer = setInterval(tick, 500);
  state.offers.set(offer.offerId, { card, timer, conversationId: offer.conversationId });
  $("offers").append(card);
}

function removeOffer(offerId, reason) {
  const offer = state.offers.get(offerId);
  if (!offer) return;
  clearInterval(offer.timer);
  offer.card.remove();
  state.offers.delete(offerId);
  if (reason && reason !== "lostRace") say(`Offer ended: ${reason}`);
}

async function assigned(conversationId) {
  for (const [offerId, offer] of state.offers) {
    if (offer.conversationId === conversationId) removeOffer(offerId);
  }
  try {
    const conversation = await api("GET", `/v1/conversations/${conversationId}`);
    state.conversations.set(conversation.id, conversation);
    renderConversations();
    if (!state.selected) selectConversation(conversation.id);
  } catch (error) {
    say(error.message);
  }
}

// MARK: Conversations

function renderConversations() {
  const list = $("conversations");
  list.replaceChildren();
  const conversations = [...state.conversations.values()].sort((a, b) => (b.lastMessageAt || "").localeCompare(a.lastMessageAt || ""));
  for (const conversation of conversations) {
    const item = el("li", { "data-conversation": conversation.id, class: conversation.id === state.selected ? "selected" : "" },
      channelBadge(conversation.channelKind), el("span", {}, conversation.subject || conversation.channelAccountId),
      conversation.status === "closed" ? el("span", { class: "pill" }, "closed") : null);
    item.addEventListener("click", () => selectConversation(conversation.id));
    list.append(item);
  }
  $("no-conversations").hidden = conversations.length > 0;
}

async function selectConversation(id) {
  state.selected = id;
  renderConversations();
  try {
    const answer = await request({ type: "conversation.open", conversationId: id });
    if (state.selected !== id) return;
    state.detail = answer.detail;
    renderDetail();
  } catch (error) {
    say(error.message);
  }
}

function renderDetail() {
  const detail = state.detail;
  $("empty").hidden = true;
  $("conversation").hidden = false;
  renderHeader();
  const timeline = $("timeline");
  timeline.replaceChildren();
  for (const event of detail.timeline) appendTimeline(event);
  const channels = $("reply-channel");
  channels.replaceChildren();
  for (const option of detail.replyChannels) {
    const item = el("option", { value: `${option.handleId}|${option.channelAccountId}` }, option.label);
    if (option.current) item.selected = true;
    channels.append(item);
  }
  const tickets = $("tickets");
  tickets.replaceChildren();
  for (const ticket of detail.openTickets) {
    tickets.append(el("li", {}, el("strong", {}, ticket.number || ""), " ", ticket.subject, " ", el("span", { class: "pill" }, ticket.status)));
  }
  $("no-tickets").hidden = detail.openTickets.length > 0;
  renderWrapUp();
}

function renderHeader() {
  const detail = state.detail;
  const customer = detail.customer.customer;
  $("customer-name").textContent = customer.name || "Customer";
  $("customer-tier").textContent = customer.tier;
  $("customer-tags").textContent = (customer.tags || []).join(", ");
  const handles = $("handles");
  handles.replaceChildren();
  for (const handle of detail.customer.handles) {
    const address = el("span", { class: "address" }, handle.address);
    const item = el("li", {}, channelBadge(handle.kind === "phone" ? "sms" : handle.kind), " ", address);
    if (detail.customer.canRevealContacts && handle.masked) {
      item.append(" ", el("button", {
        type: "button",
        onclick: async (event) => {
          try {
            const answer = await request({ type: "contact.reveal", customerId: customer.id, handleId: handle.id, reason: "inbox" });
            address.textContent = answer.address;
            event.target.remove();
          } catch (error) { say(error.message); }
        },
      }, "reveal"));
    }
    handles.append(item);
  }
}

function channelLabel(event) {
  const data = event.data || {};
  const account = data.channelAccountId || "";
  return el("span", { class: "muted" }, account);
}

function appendTimeline(event) {
  const data = event.data || {};
  const timeline = $("timeline");
  let item;
  if (event.kind.startsWith("message.") && data.id) {
    if (timeline.querySelector(`[data-message="${CSS.escape(data.id)}"]`)) return;
    const kind = data.visibility === "note" ? "note" : data.direction;
    const status = el("span", { class: "delivery" }, data.deliveryStatus ? data.deliveryStatus : "");
    item = el("li", { class: kind, "data-message": data.id },
      el("div", { class: "meta" }, channelLabel(event), time(event.at),
        data.author && data.author.kind === "agent" ? `· ${data.author.id}` : "", status),
      el("div", { class: "text" }, data.text || (data.attachments && data.attachments.length ? "[attachment]" : "")));
  } else if (event.kind === "message.status") {
    return;
  } else {
    item = el("li", { class: "system" }, `${time(event.at)} ${describe(event)}`);
  }
  timeline.append(item);
  timeline.scrollTop = timeline.scrollHeight;
}

function describe(event) {
  const data = event.data || {};
  switch (event.kind) {
    case "conversation.created": return `New conversation on ${data.channelAccountId}`;
    case "routing.assigned": return `Assigned to ${data.agentId}`;
    case "conversation.disposition": return `Wrapped up: ${data.disposition}${data.notes ? " — " + data.notes : ""}`;
    case "ticket.created": case "ticket.updated": return `Ticket ${(data.number || "")}: ${data.status || ""} ${data.subject || ""}`;
    case "call.created": case "call.updated": return `Call ${data.state || ""}`;
    default: return event.kind;
  }
}

function markStatus(messageId, status, error) {
  const node = document.querySelector(`[data-message="${CSS.escape(messageId)}"] .delivery`);
  if (node) node.textContent = error ? `${status}: ${error}` : status;
}

function renderWrapUp() {
  $("wrapup").hidden = !(state.selected && state.wrapUps.has(state.selected));
}

// MARK: Actions

$("presence").addEventListener("change", async (event) => {
  const presence = event.target.value;
  try {
    const answer = await request({ type: "presence.set", presence, reason: presence === "away" ? "break" : undefined });
    applyRouting(answer.routing);
  } catch (error) { say(error.message); }
});

$("reply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text || !state.selected) return;
  const note = $("reply-note").checked;
  const frame = { type: note ? "note.add" : "message.send", conversationId: state.selected, text, clientMessageId: clientId() };
  const choice = $("reply-channel").value;
  if (!note && choice) {
    const [handleId, channelAccountId] = choice.split("|");
    frame.handleId = handleId;
    frame.channelAccountId = channelAccountId;
  }
  $("send").disabled = true;
  try {
    await request(frame);
    $("reply-text").value = "";
    $("reply-note").checked = false;
  } catch (error) {
    say(error.message);
  } finally {
    $("send").disabled = false;
  }
});

$("transfer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.selected) return;
  const frame = { type: "conversation.transfer", conversationId: state.selected, note: $("transfer-note").value || undefined };
  if ($("transfer-agent").value) frame.agentId = $("transfer-agent").value;
  if ($("transfer-queue").value) frame.queue = $("transfer-queue").value;
  try {
    await request(frame);
    say("Transferred.");
    event.target.reset();
  } catch (error) { say(error.message); }
});

$("close").addEventListener("click", async () => {
  if (!state.selected) return;
  try { await request({ type: "conversation.close", conversationId: state.selected }); } catch (error) { say(error.message); }
});

$("wrapup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.selected) return;
  const conversationId = state.selected;
  try {
    await request({ type: "conversation.wrapup", conversationId, disposition: $("disposition").value, notes: $("wrapup-notes").value || undefined });
    state.wrapUps.delete(conversationId);
    state.conversations.delete(conversationId);
    state.selected = null;
    renderConversations();
    renderWrapUp();
    $("conversation").hidden = true;
    $("empty").hidden = false;
    say("Wrapped up.");
  } catch (error) { say(error.message); }
});

if (state.token) start();
