// The WeChat pane: 王阿姨, 小周 (volunteer) or 张记者 (reporter) on the service account (the WeChat simulator), beside
// the Telegram panes; the name in its head switches whose WeChat it shows, each with the menu WeChat gives them.
// Reads /api/wechat and acts through /api/wechat/{openid}/…; absent when the demo runs without WeChat.
// It opens with the same first hint as the Telegram panes (drawn by app.js), menu clicks show the button's label
// and photos show as photos, whoever sent them.
(function () {
  "use strict";
  const SAMPLE = "visit.jpg";
  const CURRENT = "tongxin-wechat-person"; // whose WeChat the pane shows, kept across reloads
  let view = null; // the pane: { el, openid, count, menu, lang }
  const { TOKEN_HEADERS, el, time } = window.TongxinPanes; // panes.js
  const post = window.TongxinPanes.poster("WeChat pane", () => refresh());

  function bubble(person, m) {
    const base = `/api/wechat/${encodeURIComponent(person.openid)}`;
    if (m.kind === "template" || m.kind === "subscription") {
      // A template notice, or a subscription notice (订阅通知: the same fields, no link here).
      const card = el("div", "msg bot wx-template");
      card.appendChild(el("div", "wx-t-title", m.kind === "template" ? "服务通知" : "订阅通知"));
      const names = { thing1: "事项", character_string2: "编号", time3: "时间", thing4: "备注" };
      Object.entries(m.fields).forEach(([key, value]) => {
        const row = el("div", "wx-t-row");
        row.appendChild(el("span", "", names[key] || key));
        row.appendChild(document.createTextNode(value));
        card.appendChild(row);
      });
      if (m.url) {
        const link = el("a", "", "详情");
        link.href = m.url; link.target = "_blank"; link.rel = "noopener";
        card.appendChild(link);
      }
      return card;
    }
    const box = el("div", `msg ${m.from === "me" ? "me" : "bot"}`);
    if (m.kind === "image") {
      const img = el("img", "photo");
      img.src = `/api/wechat/media/${encodeURIComponent(m.text)}`;
      box.appendChild(img);
    } else if (m.kind === "click") {
      box.appendChild(el("div", "text wx-click", `〔菜单〕${m.label || m.text}`));
    } else {
      box.appendChild(el("div", "text", m.text));
    }
    if (m.kind === "msgmenu") {
      m.items.forEach(([id, content]) => {
        const item = el("a", "wx-item", content);
        item.href = "#";
        item.addEventListener("click", (event) => { event.preventDefault(); post(`${base}/tap`, { id, content }); });
        box.appendChild(item);
      });
      if (m.tail) box.appendChild(el("div", "wx-tail", m.tail));
    }
    box.appendChild(el("div", "meta", time(m.at)));
    return box;
  }

  function menuBar(person, menu) {
    const base = `/api/wechat/${encodeURIComponent(person.openid)}`;
    const bar = el("div", "wx-menu");
    ((menu && menu.button) || []).forEach((button) => {
      const node = el("button", "", button.sub_button ? `≡ ${button.name}` : button.name);
      node.type = "button";
      node.addEventListener("click", () => {
        bar.querySelectorAll(".wx-sub").forEach((sub) => sub.remove());
        if (!button.sub_button) { post(`${base}/click`, { key: button.key }); return; }
        const sub = el("div", "wx-sub");
        sub.style.left = `${node.offsetLeft}px`;
        button.sub_button.forEach((entry) => {
          const item = el("button", "", entry.name);
          item.type = "button";
          item.addEventListener("click", () => {
            sub.remove();
            if (entry.type === "location_select") post(`${base}/location`);
            else if (entry.type === "pic_photo_or_album") post(`${base}/photo`, { sample: SAMPLE });
            else post(`${base}/click`, { key: entry.key });
          });
          sub.appendChild(item);
        });
        bar.appendChild(sub);
      });
      bar.appendChild(node);
    });
    return bar;
  }

  function createPane(people) {
    const base = () => `/api/wechat/${encodeURIComponent(view.openid)}`;
    const pane = el("section", "pane wx");
    const head = el("header", "pane-head");
    head.appendChild(el("span", "wx-badge", "微信"));
    head.appendChild(el("span", "wx-title", "同心志愿服务"));
    const who = el("select", "wx-who");
    who.title = "切换微信用户";
    people.forEach((person) => {
      const option = el("option", "", person.name);  // the role is in the hint and the option's tooltip
      option.value = person.openid;
      if (person.role) option.title = person.role;
      who.appendChild(option);
    });
    who.addEventListener("change", () => {
      localStorage.setItem(CURRENT, who.value);
      refresh();
    });
    head.appendChild(who);
    pane.appendChild(head);
    pane.appendChild(el("div", "messages"));
    const panel = el("div", "wx-panel");
    panel.hidden = true;
    [["照片", () => post(`${base()}/photo`, { sample: SAMPLE })], ["位置", () => post(`${base()}/location`)]].forEach(
      ([label, act]) => {
        const button = el("button", "", label);
        button.type = "button";
        button.addEventListener("click", () => { panel.hidden = true; act(); });
        panel.appendChild(button);
      },
    );
    const form = el("form", "wx-composer");
    const plus = el("button", "wx-plus", "+");
    plus.type = "button";
    plus.addEventListener("click", () => { panel.hidden = !panel.hidden; });
    const input = el("input");
    input.maxLength = 600;
    input.placeholder = "发消息";
    const send = el("button", "", "发送");
    send.type = "submit";
    form.append(input, plus, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      post(`${base()}/text`, { text });
    });
    pane.append(panel, form);
    pane.appendChild(el("div", "wx-menu"));
    return pane;
  }

  function hint(pane, hints, lang) {
    const chosen = hints && (hints[lang] || hints["zh-CN"]);
    if (!chosen || !window.tongxinHintNode) return [];
    return [window.tongxinHintNode(chosen, (text) => {
      const input = pane.el.querySelector(".wx-composer input");
      input.value = text;
      input.focus();
    })];
  }

  async function refresh() {
    let state;
    try {
      const response = await fetch("/api/wechat", { headers: TOKEN_HEADERS });
      if (!response.ok) return false;
      state = await response.json();
    } catch (error) {
      return true;
    }
    const container = document.getElementById("panes");
    if (!state.people.length) return true;
    const wanted = localStorage.getItem(CURRENT);
    const person = state.people.find((p) => p.openid === wanted) || state.people[0];
    if (!view) view = { el: createPane(state.people), openid: "", count: -1, menu: "" };
    if (!view.el.isConnected) container.appendChild(view.el);
    if (view.openid !== person.openid) {
      view.openid = person.openid;
      view.el.dataset.openid = person.openid;
      view.el.querySelector(".wx-who").value = person.openid;
      view.count = -1;
      view.menu = "";
    }
    const menu = person.menu || state.menu;
    const menuKey = JSON.stringify(menu || {});
    if (menuKey !== view.menu) {
      view.menu = menuKey;
      view.el.querySelector(".wx-menu").replaceWith(menuBar(person, menu));
    }
    const lang = document.documentElement.lang;
    if (person.messages.length !== view.count || lang !== view.lang) {
      view.count = person.messages.length;
      view.lang = lang;
      const box = view.el.querySelector(".messages");
      box.replaceChildren(...hint(view, person.hint || state.hint, lang), ...person.messages.map((m) => bubble(person, m)));
      box.scrollTop = box.scrollHeight;
    }
    return true;
  }

  async function loop() {
    const running = await refresh();
    if (running) setTimeout(loop, 1000);
  }

  window.addEventListener("load", () => { setTimeout(loop, 300); });
})();
