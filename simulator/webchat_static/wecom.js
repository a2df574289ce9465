// The WeCom pane (企业微信): a member of the corporation (陈主任) in the bot's self-built application, drawn over the
// Telegram pane of the same name when that pane is switched to 企业微信 (its head's button; 「Telegram」 switches back,
// and the choice is kept across reloads). Reads /api/wecom and acts through /api/wecom/{userid}/…: typed texts, the
// application's menu (as the bot set it with menu/create), a sample photo, and presses on template cards' buttons,
// which the WeCom simulator posts to the bot's callback as WeCom does. A card whose buttons the bot replaced shows
// the replacing text (who decided) instead; images show as images, files as download links.
// Its own class names (wc-…), so the Telegram pane's selectors never find its messages.
(function () {
  "use strict";
  const SAMPLE = "visit.jpg";
  const SHOWN = "tongxin-wecom-shown-"; // + userid: "1" while the member's pane shows WeCom
  const views = new Map(); // userid → { el, key, menu, stick }
  const { TOKEN_HEADERS, el, time } = window.TongxinPanes; // panes.js
  const post = window.TongxinPanes.poster("WeCom pane", () => refresh());

  function size(bytes) {
    return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
  }

  function card(member, c) {
    const box = el("div", "wc-card");
    box.dataset.task = c.task_id;
    box.appendChild(el("div", "wc-card-source", "同心工作台"));
    box.appendChild(el("div", "wc-card-title", c.title));
    if (c.body) box.appendChild(el("div", "wc-card-body", c.body));
    const buttons = el("div", "wc-card-buttons");
    if (c.replaced) {
      const done = el("button", "wc-card-done", c.replaced);
      done.type = "button";
      done.disabled = true;
      buttons.appendChild(done);
    } else {
      c.buttons.forEach((b, index) => {
        const button = el("button", index === 0 ? "wc-card-btn primary" : "wc-card-btn", b.text);
        button.type = "button";
        button.addEventListener("click", () => {
          buttons.querySelectorAll("button").forEach((node) => { node.disabled = true; });
          post(`/api/wecom/${encodeURIComponent(member.userid)}/press`, { task_id: c.task_id, key: b.key });
        });
        buttons.appendChild(button);
      });
    }
    box.appendChild(buttons);
    return box;
  }

  function bubble(member, m) {
    const row = el("div", `wc-msg ${m.from === "me" ? "wc-me" : "wc-app"}`);
    if (m.kind === "card") {
      row.appendChild(card(member, m.card));
    } else if (m.kind === "image") {
      const img = el("img", "wc-photo");
      img.src = m.from === "me" ? m.text : `/api/wecom/media/${encodeURIComponent(m.media)}`;
      row.appendChild(img);
    } else if (m.kind === "file") {
      const file = el("a", "wc-file");
      file.href = `/api/wecom/media/${encodeURIComponent(m.media)}`;
      file.download = m.filename || "file";
      file.appendChild(el("span", "wc-file-icon", "📄"));
      const about = el("span", "wc-file-about");
      about.append(el("span", "wc-file-name", m.filename || "file"), el("span", "wc-file-size", size(m.size)));
      file.appendChild(about);
      row.appendChild(file);
    } else if (m.kind === "click") {
      row.appendChild(el("div", "wc-text wc-click", `〔菜单〕${m.text}`));
    } else {
      row.appendChild(el("div", "wc-text", m.text));
    }
    row.appendChild(el("div", "wc-time", time(m.at)));
    return row;
  }

  function menuBar(member, menu) {
    const base = `/api/wecom/${encodeURIComponent(member.userid)}`;
    const bar = el("div", "wc-menu");
    ((menu && menu.button) || []).forEach((button) => {
      const node = el("button", "", button.sub_button ? `≡ ${button.name}` : button.name);
      node.type = "button";
      node.addEventListener("click", () => {
        const open = bar.querySelector(".wc-sub");
        open?.remove();
        if (!button.sub_button) { post(`${base}/click`, { key: button.key }); return; }
        if (open && open.dataset.of === button.name) return;
        const sub = el("div", "wc-sub");
        sub.dataset.of = button.name;
        sub.style.left = `${node.offsetLeft}px`;
        button.sub_button.forEach((entry) => {
          const item = el("button", "", entry.name);
          item.type = "button";
          item.addEventListener("click", () => { sub.remove(); post(`${base}/click`, { key: entry.key }); });
          sub.appendChild(item);
        });
        bar.appendChild(sub);
      });
      bar.appendChild(node);
    });
    return bar;
  }

  // The pane's first hint, drawn as the Telegram panes draw theirs (app.js); a suggestion tapped goes into the box.
  function hint(view, hints, lang) {
    const chosen = hints && (hints[lang] || hints["zh-CN"]);
    if (!chosen || !window.tongxinHintNode) return [];
    const node = window.tongxinHintNode(chosen, (text) => {
      const input = view.el.querySelector(".wc-composer input");
      input.value = text;
      input.focus();
    });
    node.className = "wc-hint"; // not .hint: the Telegram pane it lies in has its own
    return [node];
  }

  function shown(member) { return localStorage.getItem(SHOWN + member.userid) === "1"; }

  function show(member, on) {
    localStorage.setItem(SHOWN + member.userid, on ? "1" : "0");
    refresh();
  }

  function createView(member) {
    const base = `/api/wecom/${encodeURIComponent(member.userid)}`;
    const pane = el("div", "wc-pane");
    pane.dataset.userid = member.userid;
    const head = el("header", "wc-head");
    head.appendChild(el("span", "wc-badge", "企业微信"));
    const title = el("div", "wc-title");
    title.append(el("span", "wc-app-name", "同心工作台"), el("span", "wc-who", `${member.name}${member.role ? ` · ${member.role}` : ""}`));
    head.appendChild(title);
    const back = el("button", "wc-back", "Telegram");
    back.type = "button";
    back.title = "切换到 Telegram";
    back.addEventListener("click", () => show(member, false));
    head.appendChild(back);
    const box = el("div", "wc-messages");
    pane.append(head, box);
    // Stay at the bottom while images load and the chat grows, unless the member scrolled up to read.
    const view = { el: pane, key: "", menu: "", stick: true };
    box.addEventListener("scroll", () => { view.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80; });
    box.addEventListener("load", () => { if (view.stick) box.scrollTop = box.scrollHeight; }, true);
    const panel = el("div", "wc-panel");
    panel.hidden = true;
    const photo = el("button", "", "图片");
    photo.type = "button";
    photo.addEventListener("click", () => { panel.hidden = true; post(`${base}/photo`, { sample: SAMPLE }); });
    panel.appendChild(photo);
    const form = el("form", "wc-composer");
    const input = el("input");
    input.maxLength = 600;
    input.placeholder = "发消息";
    const plus = el("button", "wc-plus", "+");
    plus.type = "button";
    plus.addEventListener("click", () => { panel.hidden = !panel.hidden; });
    const send = el("button", "wc-send", "发送");
    send.type = "submit";
    form.append(input, plus, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      post(`${base}/text`, { text });
    });
    pane.append(panel, form, el("div", "wc-menu"));
    return view;
  }

  // The button in the Telegram pane's head that switches it to the member's WeCom.
  function switchButton(telegramPane, member) {
    let button = telegramPane.querySelector(".wc-switch");
    if (!button) {
      button = el("button", "wc-switch", "企业微信");
      button.type = "button";
      button.title = "切换到企业微信";
      button.addEventListener("click", () => show(member, true));
      telegramPane.querySelector(".pane-head").insertBefore(button, telegramPane.querySelector(".pane-head .lang"));
    }
  }

  async function refresh() {
    let state;
    try {
      const response = await fetch("/api/wecom", { headers: TOKEN_HEADERS });
      if (!response.ok) return false;
      state = await response.json();
    } catch (error) {
      return true;
    }
    for (const member of state.members) {
      const telegramPane = member.telegram ? document.querySelector(`.pane[data-person="${CSS.escape(member.telegram)}"]`) : null;
      if (!telegramPane) continue; // his Telegram pane is closed: open it (the bar under the top) to switch
      switchButton(telegramPane, member);
      let view = views.get(member.userid);
      if (!view) { view = createView(member); views.set(member.userid, view); }
      if (view.el.parentElement !== telegramPane) telegramPane.appendChild(view.el);
      const opened = view.el.hidden && shown(member);
      view.el.hidden = !shown(member);
      telegramPane.classList.toggle("wc-on", shown(member));
      const menuKey = JSON.stringify(state.menu || {});
      if (menuKey !== view.menu) {
        view.menu = menuKey;
        view.el.querySelector(".wc-menu").replaceWith(menuBar(member, state.menu));
      }
      const lang = document.documentElement.lang;
      const key = JSON.stringify([lang, member.messages]);
      if (key !== view.key) {
        view.key = key;
        const box = view.el.querySelector(".wc-messages");
        box.replaceChildren(...hint(view, member.hint, lang), ...member.messages.map((m) => bubble(member, m)));
        if (view.stick) box.scrollTop = box.scrollHeight;
      }
      if (opened) { // drawn while hidden, it could not scroll: show the newest
        const box = view.el.querySelector(".wc-messages");
        box.scrollTop = box.scrollHeight;
        view.stick = true;
      }
    }
    return true;
  }

  async function loop() {
    const running = await refresh();
    if (running) setTimeout(loop, 1000);
  }

  window.addEventListener("load", () => { setTimeout(loop, 300); });
})();
