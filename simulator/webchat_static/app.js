// The demo's chat page: one pane per simulated person, kept live by the server's event stream.
// Plain browser JavaScript with no libraries, so the page works offline.
"use strict";

const UI = {
  "zh-CN": {
    title: "Tongxin 演示 · 无需 Telegram", clock: "演示时间", plus_hour: "+1 小时", plus_day: "+1 天", plus_week: "+1 周",
    add_person: "＋ 添加人物", add_title: "添加人物", new_name: "新人物的名字", telegram_language: "Telegram 语言",
    cancel: "取消", add: "添加", send: "发送", placeholder: "输入消息或 /命令…",
    attach_upload: "上传图片（可多选）", attach_samples: "示例图片", attach_document: "文件",
    attach_location: "发送位置", attach_contact: "发送手机号", send_samples: "发送所选图片", edited: "已编辑",
    show_again: "再次显示：", download: "下载", location: "位置", contact: "联系人",
    shares_location: "发送预设位置", shares_contact: "发送此人的手机号", weekdays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    roles: { resident: "居民", volunteer: "志愿者", reporter: "流动记者", coordinator: "协调员", editor: "编辑", monitor: "舆情监测", admin: "管理员", department: "部门成员" },
    other_lang: "English", hint_title: "可以试试", cast: "更多人物（点开聊天窗口）：",
    empty_message: "请先输入要发送的内容。",
    too_long: "消息太长了：{n} 个字符，Telegram 一条消息最多 4096 个字符。请分成几条发送。",
    request_failed: "没有发送成功，请再试一次。",
    not_an_image: "只能上传图片文件（jpg、png、gif、webp）。",
  },
  en: {
    title: "Tongxin demo · no Telegram needed", clock: "Demo time", plus_hour: "+1 hour", plus_day: "+1 day", plus_week: "+1 week",
    add_person: "＋ Add a person", add_title: "Add a person", new_name: "Name of a new person", telegram_language: "Telegram language",
    cancel: "Cancel", add: "Add", send: "Send", placeholder: "Message or /command…",
    attach_upload: "Upload images", attach_samples: "Sample images", attach_document: "File",
    attach_location: "Send location", attach_contact: "Send phone number", send_samples: "Send selected", edited: "edited",
    show_again: "Show again:", download: "Download", location: "Location", contact: "Contact",
    shares_location: "sends a preset location", shares_contact: "sends this person's phone number", weekdays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    roles: { resident: "resident", volunteer: "volunteer", reporter: "reporter", coordinator: "coordinator", editor: "editor", monitor: "monitor", admin: "admin", department: "department" },
    other_lang: "中文", hint_title: "Try this", cast: "More people (open a chat):",
    empty_message: "Type something to send first.",
    too_long: "That message is too long: {n} characters; Telegram takes at most 4096 per message. Please split it.",
    request_failed: "That did not go through; please try again.",
    not_an_image: "Only image files can be uploaded here (jpg, png, gif, webp).",
  },
};
const AVATAR_COLOURS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774", "#5b8fd6"];
// Roles worth a badge, most specific first; "resident" is shown only for people holding nothing else.
const ROLE_ORDER = ["coordinator", "editor", "department", "reporter", "volunteer", "monitor", "admin"];

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const MAX_TEXT = 4096; // Telegram's limit for one message, in UTF-16 units like String.length
let uiLang = localStorage.getItem("tongxin-demo-ui") || "zh-CN";
let people = [];
const panes = new Map(); // user id → { el, person, answers, refreshTimer, lastIds }
let samples = [];
let clockBase = null; // { epoch, tz, at } to keep the shown time ticking between refreshes

function t(key) { return UI[uiLang][key] ?? UI["zh-CN"][key] ?? key; }

// The per-run token the server put into this page; every API call carries it (other pages cannot read it).
const TOKEN = document.querySelector('meta[name="tongxin-token"]')?.content ?? "";

async function api(path, body, options = {}) {
  const init = body === undefined ? {} : body instanceof FormData
    ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const headers = { ...(init.headers ?? {}), ...(options.headers ?? {}), "X-Tongxin-Token": TOKEN };
  const response = await fetch(path, { ...init, ...options, headers });
  if (!response.ok) {
    const text = await response.text();
    throw new Error(`${response.status}: ${text}`);
  }
  return response.json();
}

// ---------- page chrome ----------

function applyUiLanguage() {
  document.documentElement.lang = uiLang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById("ui-lang").textContent = t("other_lang");
  document.querySelectorAll(".composer .text").forEach((el) => { el.placeholder = t("placeholder"); });
  panes.forEach((pane) => { renderHead(pane); renderHint(pane); });
  renderCast();
  renderClock();
}

function renderClock() {
  const el = document.getElementById("clock-value");
  if (!clockBase) { el.textContent = "—"; return; }
  const epoch = clockBase.epoch + (Date.now() - clockBase.at) / 1000;
  const date = new Date(epoch * 1000);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: clockBase.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    weekday: "short", hour12: false,
  }).formatToParts(date).map((p) => [p.type, p.value]));
  const weekdayIndex = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday);
  el.textContent = `${parts.year}-${parts.month}-${parts.day} ${t("weekdays")[weekdayIndex]} ${parts.hour}:${parts.minute}`;
  el.dataset.epoch = String(Math.floor(epoch));
}

let stateRequests = 0;

async function loadState() {
  // Several actions in a row (closing three panes) each reload the state; an older answer arriving after a
  // newer one would bring back a pane that was just closed, so only the latest request's answer is applied.
  const request = ++stateRequests;
  const state = await api("/api/state");
  if (request !== stateRequests) return;
  people = state.people;
  if (state.clock) clockBase = { epoch: state.clock.epoch, tz: state.clock.tz, at: Date.now() };
  renderClock();
  const wanted = people.filter((p) => p.pane);
  for (const [id, pane] of panes) {
    if (!wanted.some((p) => p.id === id)) { pane.el.remove(); panes.delete(id); }
  }
  const container = document.getElementById("panes");
  wanted.forEach((person, index) => {
    let pane = panes.get(person.id);
    if (!pane) {
      pane = createPane(person);
      panes.set(person.id, pane);
      refreshMessages(pane);
    }
    pane.person = person;
    // Keep the server's order, moving a pane only when it is out of place: a moved element loses its scroll.
    if (container.children[index] !== pane.el) {
      container.insertBefore(pane.el, container.children[index] || null);
      const box = pane.el.querySelector(".messages");
      if (pane.stick) box.scrollTop = box.scrollHeight;
    }
    renderHead(pane);
    renderHint(pane);
  });
  renderCast();
}

// The people without a pane, named under the bar: a newcomer sees who else is in the district (the department
// members too) and opens a chat with one tap.
function renderCast() {
  const bar = document.getElementById("cast");
  const hidden = people.filter((p) => !p.pane);
  bar.hidden = hidden.length === 0;
  document.body.classList.toggle("has-cast", hidden.length > 0);
  const label = document.createElement("span");
  label.className = "cast-label";
  label.textContent = t("cast");
  bar.replaceChildren(label, ...hidden.map((person) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cast-person";
    button.dataset.person = person.name;
    const held = ROLE_ORDER.filter((r) => person.roles.includes(r));
    const roles = (held.length ? held : [person.preset || "resident"]).map((r) => t("roles")[r] || r).join("·");
    button.textContent = `${person.name} · ${roles}`;
    button.addEventListener("click", async () => {
      await api(`/api/people/${person.id}/pane`, { shown: true });
      await loadState();
    });
    return button;
  }));
}

// The first hint of a pane: what this person can try (by role, from the demo's catalogue), kept above the chat.
// A tap on a suggestion puts it into the message box.
function renderHint(pane) {
  const box = pane.el.querySelector(".messages");
  const hint = pane.person.hint?.[uiLang] ?? pane.person.hint?.["zh-CN"];
  const old = box.querySelector(":scope > .hint");
  if (!hint) { old?.remove(); return; }
  const node = hintNode(hint, (text) => {
    const input = pane.el.querySelector(".composer .text");
    input.value = text;
    input.focus();
  });
  if (old) old.replaceWith(node); else box.prepend(node);
}

function hintNode(hint, onTry) {
  const node = document.createElement("div");
  node.className = "hint";
  const title = document.createElement("div");
  title.className = "hint-title";
  title.textContent = `💡 ${t("hint_title")}`;
  const text = document.createElement("div");
  text.className = "hint-text";
  text.textContent = hint.text;
  const tries = document.createElement("div");
  tries.className = "hint-tries";
  for (const value of hint.tries || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "hint-try";
    button.textContent = value;
    button.addEventListener("click", () => onTry(value));
    tries.appendChild(button);
  }
  node.append(title, text, tries);
  return node;
}
window.tongxinHintNode = hintNode; // the WeChat pane (wechat.js) draws its hint the same way

// ---------- panes ----------

function createPane(person) {
  const el = document.getElementById("pane-template").content.firstElementChild.cloneNode(true);
  el.dataset.person = person.name;
  el.dataset.userId = String(person.id);
  const pane = { el, person, answers: null, refreshTimer: null, stick: true, selectedSamples: new Set() };
  const input = el.querySelector(".composer .text");
  input.placeholder = t("placeholder");
  el.querySelector(".composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    // Say what is wrong on the page, in its language, and keep what was typed: nothing is cut or lost.
    if (!text.trim()) { showToast(pane, t("empty_message")); return; }
    if (text.length > MAX_TEXT) { showToast(pane, t("too_long").replace("{n}", String(text.length))); return; }
    input.value = "";
    await act(pane, `/api/people/${person.id}/text`, { text });
  });
  el.querySelector(".lang").addEventListener("change", (event) => {
    act(pane, `/api/people/${person.id}/language`, { language: event.target.value });
  });
  el.querySelector(".close").addEventListener("click", () => act(pane, `/api/people/${person.id}/pane`, { shown: false }).then(loadState));
  const menu = el.querySelector(".attach-menu");
  el.querySelector(".attach").addEventListener("click", () => { menu.hidden = !menu.hidden; });
  menu.addEventListener("click", (event) => {
    const kind = event.target.closest("[data-attach]")?.dataset.attach;
    if (kind) attach(pane, kind);
  });
  el.querySelector(".file-photos").addEventListener("change", (event) => sendPhotoFiles(pane, event.target));
  el.querySelector(".file-document").addEventListener("change", (event) => sendDocumentFile(pane, event.target));
  el.querySelector(".send-samples").addEventListener("click", () => sendSamples(pane));
  const box = el.querySelector(".messages");
  box.addEventListener("click", (event) => onMessageClick(pane, event));
  // Only the person scrolling up unsticks a pane from the bottom; content growing under it does not.
  box.addEventListener("wheel", () => { setTimeout(() => { pane.stick = atBottom(box); }, 50); });
  box.addEventListener("keydown", () => { setTimeout(() => { pane.stick = atBottom(box); }, 50); });
  // Images grow the list when they load (load does not bubble, hence the capture phase).
  box.addEventListener("load", () => { if (pane.stick) box.scrollTop = box.scrollHeight; }, true);
  // A pane that gets wider or narrower (another pane opened or closed) reflows; stay at the bottom.
  new ResizeObserver(() => { if (pane.stick) box.scrollTop = box.scrollHeight; }).observe(box);
  el.querySelector(".reply-keyboard").addEventListener("click", (event) => {
    const button = event.target.closest(".reply-btn");
    if (button) act(pane, `/api/people/${pane.person.id}/reply`, { text: button.dataset.text });
  });
  return pane;
}

function renderHead(pane) {
  const { el, person } = pane;
  const avatar = el.querySelector(".avatar");
  avatar.textContent = [...person.name][0] || "?";
  avatar.style.background = AVATAR_COLOURS[person.id % AVATAR_COLOURS.length];
  el.querySelector(".name").textContent = person.name;
  const held = ROLE_ORDER.filter((r) => person.roles.includes(r));
  const shown = held.length ? held : [person.preset || "resident"];
  const roles = el.querySelector(".roles");
  roles.replaceChildren(...shown.map((role) => {
    const badge = document.createElement("span");
    badge.className = `role ${role}`;
    badge.textContent = t("roles")[role] || role;
    return badge;
  }));
  el.querySelector(".lang").value = person.language;
}

async function act(pane, path, body) {
  try {
    return await api(path, body);
  } catch (error) {
    // The server's words are for developers (the console); the person reads the page's language.
    console.warn(path, error);
    showToast(pane, t("request_failed"));
    return null;
  }
}

function showToast(pane, text) {
  const toast = pane.el.querySelector(".toast");
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(pane.toastTimer);
  pane.toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
}

function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }

function scheduleRefresh(pane) {
  clearTimeout(pane.refreshTimer);
  pane.refreshTimer = setTimeout(() => refreshMessages(pane), 40);
}

async function refreshMessages(pane) {
  let data;
  try {
    data = await api(`/api/people/${pane.person.id}/messages`);
  } catch (error) {
    return;
  }
  const box = pane.el.querySelector(".messages");
  const previous = pane.lastSignature || new Map();
  const signature = new Map();
  const nodes = groupAlbums(data.messages).map((group) => {
    const node = renderMessage(group);
    const key = group.map((m) => m.id).join(",");
    const sig = JSON.stringify(group);
    signature.set(key, sig);
    if (previous.size && previous.has(key) && previous.get(key) !== sig) node.classList.add("flash");
    return node;
  });
  pane.lastSignature = signature;
  box.replaceChildren(...nodes);
  renderHint(pane);
  if (pane.stick || !previous.size || nodes.length > previous.size) {
    pane.stick = true;
    box.scrollTop = box.scrollHeight;
  }

  renderReplyKeyboard(pane, data.reply_keyboard);
  if (pane.answers !== null && data.answers.length > pane.answers) {
    const text = data.answers[data.answers.length - 1];
    if (text) showToast(pane, text);
  }
  pane.answers = data.answers.length;
}

function groupAlbums(messages) {
  const groups = [];
  for (const message of messages) {
    const last = groups[groups.length - 1];
    if (last && message.media_group_id && last[0].media_group_id === message.media_group_id && last[0].from === message.from) {
      last.push(message);
    } else {
      groups.push([message]);
    }
  }
  return groups;
}

// ---------- rendering messages ----------

function renderMessage(group) {
  const first = group[0];
  const el = document.createElement("div");
  el.className = `msg ${first.from}`;
  el.dataset.messageId = String(first.id);
  if (group.length > 1) {
    const album = document.createElement("div");
    album.className = "album";
    for (const item of group) album.appendChild(mediaNode(item));
    el.appendChild(album);
  } else if (first.kind !== "text") {
    el.appendChild(mediaNode(first));
  }
  const captioned = group.find((m) => m.text);
  if (captioned) {
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = renderEntities(captioned.text, captioned.entities || []);
    el.appendChild(text);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  if (group.some((m) => m.edited)) {
    const flag = document.createElement("span");
    flag.className = "edited-flag";
    flag.textContent = t("edited");
    meta.appendChild(flag);
  }
  meta.appendChild(document.createTextNode(first.time));
  el.appendChild(meta);
  const keyboard = group.find((m) => m.inline_keyboard)?.inline_keyboard;
  if (keyboard) el.appendChild(inlineKeyboard(keyboard, group.find((m) => m.inline_keyboard).id));
  return el;
}

function mediaNode(message) {
  switch (message.kind) {
    case "photo": {
      const img = document.createElement("img");
      img.className = "photo";
      img.src = message.photo;
      img.alt = "photo";
      img.dataset.full = message.photo;
      return img;
    }
    case "video": {
      const video = document.createElement("video");
      video.src = message.video;
      video.controls = true;
      return video;
    }
    case "document": {
      const doc = document.createElement("div");
      doc.className = "doc";
      const icon = document.createElement("span");
      icon.className = "icon";
      icon.textContent = (message.document.name.split(".").pop() || "FILE").slice(0, 4).toUpperCase();
      const body = document.createElement("div");
      const link = document.createElement("a");
      link.href = message.document.url;
      link.download = message.document.name;
      link.textContent = message.document.name;
      link.className = "doc-link";
      const size = document.createElement("div");
      size.className = "size";
      size.textContent = `${formatSize(message.document.size)} · ${t("download")}`;
      body.append(link, size);
      doc.append(icon, body);
      return doc;
    }
    case "location": {
      const card = document.createElement("div");
      card.className = "card location";
      card.innerHTML = `<span class="label">${escapeHtml(t("location"))}</span>`;
      card.append(`${message.location.latitude.toFixed(5)}, ${message.location.longitude.toFixed(5)}`);
      return card;
    }
    case "contact": {
      const card = document.createElement("div");
      card.className = "card contact";
      card.innerHTML = `<span class="label">${escapeHtml(t("contact"))}</span>`;
      card.append(`${message.contact.first_name || ""} ${message.contact.phone_number}`);
      return card;
    }
    case "sticker": {
      const sticker = document.createElement("div");
      sticker.className = "sticker";
      sticker.textContent = message.sticker || "🙂";
      return sticker;
    }
    default: {
      const unknown = document.createElement("div");
      unknown.className = "card";
      unknown.textContent = `[${message.kind}]`;
      return unknown;
    }
  }
}

function formatSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function inlineKeyboard(rows, messageId) {
  const box = document.createElement("div");
  box.className = "inline-keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "inline-row";
    for (const button of row) {
      let node;
      if (button.url) {
        node = document.createElement("a");
        node.href = safeUrl(button.url);
        node.target = "_blank";
        node.rel = "noopener noreferrer";
        node.className = "inline-btn url";
      } else {
        node = document.createElement("button");
        node.type = "button";
        node.className = "inline-btn";
        node.dataset.callback = button.callback_data ?? "";
        node.dataset.messageId = String(messageId);
      }
      node.textContent = button.text;
      line.appendChild(node);
    }
    box.appendChild(line);
  }
  return box;
}

function renderReplyKeyboard(pane, markup) {
  const box = pane.el.querySelector(".reply-keyboard");
  const rows = markup?.keyboard || [];
  box.hidden = rows.length === 0;
  box.replaceChildren(...rows.map((row) => {
    const line = document.createElement("div");
    line.className = "reply-row";
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const node = document.createElement("button");
      node.type = "button";
      node.className = "reply-btn";
      node.dataset.text = label;
      node.textContent = label;
      if (button.request_location) node.title = t("shares_location");
      if (button.request_contact) node.title = t("shares_contact");
      line.appendChild(node);
    }
    return line;
  }));
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function escapeHtml(text) { return text.replace(/[&<>"']/g, (c) => ESCAPES[c]); }
function safeUrl(url) { return /^(https?:|tg:|mailto:)/i.test(url) ? url : "#"; }

// Telegram entities count UTF-16 code units, which is exactly how JavaScript strings index.
function renderEntities(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return renderRange(text, sorted, 0, text.length);
}

function renderRange(text, entities, start, end) {
  let out = "";
  let pos = start;
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i];
    if (e.offset < pos || e.offset + e.length > end) continue;
    out += escapeHtml(text.slice(pos, e.offset));
    const stop = e.offset + e.length;
    const inner = entities.filter((x, j) => j !== i && x.offset >= e.offset && x.offset + x.length <= stop);
    out += wrapEntity(e, text.slice(e.offset, stop), renderRange(text, inner, e.offset, stop));
    pos = stop;
  }
  return out + escapeHtml(text.slice(pos, end));
}

function wrapEntity(entity, raw, html) {
  switch (entity.type) {
    case "bold": return `<b>${html}</b>`;
    case "italic": return `<i>${html}</i>`;
    case "underline": return `<u>${html}</u>`;
    case "strikethrough": return `<s>${html}</s>`;
    case "spoiler": return `<span class="spoiler">${html}</span>`;
    case "code": return `<code>${html}</code>`;
    case "pre": return `<pre>${html}</pre>`;
    case "blockquote": case "expandable_blockquote": return `<blockquote>${html}</blockquote>`;
    case "text_link": return `<a href="${escapeHtml(safeUrl(entity.url || ""))}" target="_blank" rel="noopener noreferrer">${html}</a>`;
    case "url": return `<a href="${escapeHtml(safeUrl(/^[a-z]+:/i.test(raw) ? raw : `http://${raw}`))}" target="_blank" rel="noopener noreferrer">${html}</a>`;
    case "email": return `<a href="mailto:${escapeHtml(raw)}">${html}</a>`;
    case "bot_command": return `<a class="cmd" data-command="${escapeHtml(raw)}">${html}</a>`;
    default: return html;
  }
}

async function onMessageClick(pane, event) {
  const button = event.target.closest(".inline-btn[data-callback]");
  if (button) {
    await act(pane, `/api/people/${pane.person.id}/press`, {
      message_id: Number(button.dataset.messageId), data: button.dataset.callback,
    });
    return;
  }
  const command = event.target.closest("a.cmd");
  if (command) {
    await act(pane, `/api/people/${pane.person.id}/text`, { text: command.dataset.command });
    return;
  }
  const photo = event.target.closest("img[data-full]");
  if (photo) window.open(photo.dataset.full, "_blank", "noopener");
}

// ---------- attachments ----------

async function attach(pane, kind) {
  const id = pane.person.id;
  const menu = pane.el.querySelector(".attach-menu");
  if (kind === "upload") pane.el.querySelector(".file-photos").click();
  else if (kind === "document") pane.el.querySelector(".file-document").click();
  else if (kind === "samples") await showSamples(pane);
  else if (kind === "location") { menu.hidden = true; await act(pane, `/api/people/${id}/location`, {}); }
  else if (kind === "contact") { menu.hidden = true; await act(pane, `/api/people/${id}/contact`, {}); }
}

function takeCaption(pane) {
  const input = pane.el.querySelector(".composer .text");
  const caption = input.value.trim();
  input.value = "";
  return caption;
}

async function sendPhotoFiles(pane, input) {
  const files = [...input.files].slice(0, 10);
  input.value = "";
  if (!files.length) return;
  // A file that is not an image is not sent as a photo (Telegram would not show it as one either).
  if (files.some((file) => !IMAGE_TYPES.includes(file.type))) { showToast(pane, t("not_an_image")); return; }
  const form = new FormData();
  const caption = takeCaption(pane);
  if (caption) form.append("caption", caption);
  files.forEach((file) => form.append("file", file, file.name));
  pane.el.querySelector(".attach-menu").hidden = true;
  await act(pane, `/api/people/${pane.person.id}/photos`, form);
}

async function sendDocumentFile(pane, input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const form = new FormData();
  const caption = takeCaption(pane);
  if (caption) form.append("caption", caption);
  form.append("file", file, file.name);
  pane.el.querySelector(".attach-menu").hidden = true;
  await act(pane, `/api/people/${pane.person.id}/document`, form);
}

async function showSamples(pane) {
  if (!samples.length) samples = await api("/api/samples");
  const box = pane.el.querySelector(".samples");
  const grid = box.querySelector(".sample-grid");
  grid.replaceChildren(...samples.map((sample) => {
    const img = document.createElement("img");
    img.src = sample.url;
    img.alt = sample.name;
    img.title = sample.name;
    img.dataset.sample = sample.name;
    img.addEventListener("click", () => {
      if (pane.selectedSamples.has(sample.name)) pane.selectedSamples.delete(sample.name);
      else pane.selectedSamples.add(sample.name);
      img.classList.toggle("selected");
    });
    return img;
  }));
  pane.selectedSamples.clear();
  box.hidden = false;
}

async function sendSamples(pane) {
  const chosen = [...pane.selectedSamples];
  if (!chosen.length) return;
  const caption = takeCaption(pane);
  pane.selectedSamples.clear();
  pane.el.querySelector(".samples").hidden = true;
  pane.el.querySelector(".attach-menu").hidden = true;
  await act(pane, `/api/people/${pane.person.id}/photos`, { samples: chosen, caption: caption || null });
}

// ---------- add a person, clock, events ----------

function openAddDialog() {
  const dialog = document.getElementById("add-dialog");
  const hidden = people.filter((p) => !p.pane);
  const box = document.getElementById("hidden-people");
  box.replaceChildren();
  if (hidden.length) {
    const label = document.createElement("div");
    label.textContent = t("show_again");
    label.style.width = "100%";
    box.appendChild(label);
  }
  for (const person of hidden) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = person.name;
    button.addEventListener("click", async () => {
      await api(`/api/people/${person.id}/pane`, { shown: true });
      dialog.close();
      await loadState();
    });
    box.appendChild(button);
  }
  document.getElementById("add-form").reset();
  dialog.showModal();
}

async function onAddSubmit(event) {
  const form = event.target;
  if (event.submitter?.value !== "add") return;
  const data = new FormData(form);
  const name = String(data.get("name") || "").trim();
  if (!name) { event.preventDefault(); return; }
  await api("/api/people", { name, language: data.get("language") });
  await loadState();
}

function connectEvents() {
  const events = new EventSource("/api/events");
  events.addEventListener("chat", (event) => {
    const pane = panes.get(JSON.parse(event.data).chat_id);
    if (pane) scheduleRefresh(pane);
  });
  events.addEventListener("state", () => loadState());
  events.addEventListener("open", () => { loadState(); panes.forEach(scheduleRefresh); });
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("add-person").addEventListener("click", openAddDialog);
  document.getElementById("add-form").addEventListener("submit", onAddSubmit);
  document.getElementById("ui-lang").addEventListener("click", () => {
    uiLang = uiLang === "en" ? "zh-CN" : "en";
    localStorage.setItem("tongxin-demo-ui", uiLang);
    applyUiLanguage();
  });
  document.querySelectorAll(".clock-btn").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await api("/api/clock/advance", { hours: Number(button.dataset.hours) });
      clockBase = { ...clockBase, epoch: new Date(result.now).getTime() / 1000, at: Date.now() };
      renderClock();
    } finally {
      button.disabled = false;
    }
  }));
  applyUiLanguage();
  await loadState();
  document.body.dataset.ready = "true";
  connectEvents();
  setInterval(renderClock, 10_000);
});
