// What the WeChat and WeCom panes share (wechat.js, wecom.js): the per-run token every API call carries (the server
// put it into the page, see app.js), building elements, the time of a message as Shanghai shows it, and posting to the
// demo's API then refreshing the pane.
window.TongxinPanes = (function () {
  "use strict";
  const TOKEN_HEADERS = { "X-Tongxin-Token": document.querySelector('meta[name="tongxin-token"]')?.content ?? "" };

  // A post function for one pane: `label` names it in the console when the API refuses, `refresh` redraws it.
  function poster(label, refresh) {
    return async function post(path, body) {
      const response = await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json", ...TOKEN_HEADERS }, body: JSON.stringify(body || {}),
      });
      if (!response.ok) console.warn(label + ":", path, response.status);
      setTimeout(refresh, 300);
    };
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }

  return { TOKEN_HEADERS, poster, el, time };
})();
