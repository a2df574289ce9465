/* The command-centre screen: fetches /screen/data.json (with the page's token) every few seconds and draws
   the counters, the district map, 三率, overdue cases, open public-opinion events with their clocks counting down,
   hot terms and the 30-day trends with ECharts. */
(function () {
  "use strict";
  var REFRESH_MS = 3000;
  var token = new URLSearchParams(window.location.search).get("token") || "";
  var query = "?token=" + encodeURIComponent(token);
  var charts = {};
  var font = getComputedStyle(document.body).fontFamily;

  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" }); }
    return charts[id];
  }

  function text(value) { return value === null || value === undefined ? "—" : String(value); }

  function labels(l) {
    document.getElementById("title").textContent = l.title;
    document.title = l.title;
    document.querySelectorAll("[data-label]").forEach(function (el) { el.textContent = l[el.dataset.label]; });
    document.querySelectorAll(".tile").forEach(function (el) {
      el.querySelector("span").textContent = l[el.dataset.counter];
    });
  }

  function counters(c) {
    document.querySelectorAll(".tile").forEach(function (el) {
      el.querySelector("b").textContent = text(c[el.dataset.counter]);
    });
  }

  function map(d) {
    var top = Math.max(1, Math.max.apply(null, d.areas.map(function (a) { return a.value; })));
    chart("map").setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item", formatter: "{b}<br/>" + d.labels.open_cases + "：{c}" },
      visualMap: { min: 0, max: top, left: 8, bottom: 8, calculable: false, textStyle: { color: "#b8cff0" },
                   inRange: { color: ["#163d73", "#f4a259", "#e63946"] } },
      series: [{ type: "map", map: "district", roam: false, data: d.areas,
                 label: { show: true, color: "#ffffff", fontSize: 13, fontFamily: font,
                          formatter: function (p) { return p.name + "\n" + (p.value || 0); } },
                 itemStyle: { borderColor: "#5ee7ff", borderWidth: 1 },
                 emphasis: { label: { color: "#ffd166" }, itemStyle: { areaColor: "#2b5ea8" } } }]
    });
  }

  function rates(d) {
    var names = d.rates.map(function (r) { return r.name; });
    // A rate without cases or ratings yet is drawn as no data, with its label, never as a 0 % bar.
    function point(value) {
      if (value !== null && value !== undefined) return value;
      return { value: 0, itemStyle: { opacity: 0 }, label: { formatter: d.labels.no_data, color: "#8fb3e6" } };
    }
    function series(key, color) {
      return { name: d.labels[key], type: "bar", data: d.rates.map(function (r) { return point(r[key]); }),
               itemStyle: { color: color }, label: { show: true, position: "right", color: "#e8f1ff", formatter: "{c}%" } };
    }
    chart("rates").setOption({
      textStyle: { fontFamily: font },
      legend: { textStyle: { color: "#b8cff0" }, top: 0 },
      grid: { left: 60, right: 40, top: 28, bottom: 20 },
      xAxis: { type: "value", max: 100, axisLabel: { color: "#8fb3e6" }, splitLine: { lineStyle: { color: "#1d3f70" } } },
      yAxis: { type: "category", data: names, inverse: true, axisLabel: { color: "#e8f1ff", fontSize: 13 } },
      graphic: names.length ? [] : [{ type: "text", left: "center", top: "middle",
                                      style: { text: d.labels.none, fill: "#8fb3e6", fontSize: 16, fontFamily: font } }],
      series: [series("response", "#5ee7ff"), series("resolution", "#ffd166"), series("satisfaction", "#7bd389")]
    }, true);
  }

  function overdue(d) {
    var list = document.getElementById("overdue");
    list.textContent = "";
    if (!d.overdue.length) {
      var none = document.createElement("li"); none.textContent = d.labels.none; list.appendChild(none); return;
    }
    d.overdue.forEach(function (c) {
      var li = document.createElement("li");
      var what = document.createElement("span");
      what.textContent = c.ref + " · " + c.department + " · " + c.area;
      var late = document.createElement("span");
      late.className = "late";
      late.textContent = d.labels.hours_late.replace("{hours}", c.hours_late);
      li.appendChild(what); li.appendChild(late); list.appendChild(li);
    });
  }

  // Public-opinion events: one row per open event in its level's colour, a chip per clock counting down each second
  // from the server's clock (`skew`: the server's now minus this browser's, taken at every refresh).
  var skew = 0;
  var clockLabels = {};

  function span(className, content) {
    var el = document.createElement("span"); el.className = className; el.textContent = content; return el;
  }

  function clockChip(c) {
    var chip = span("clock " + c.state + (c.missed ? " missed" : ""), (c.missed ? "❗" : "") + c.name + " ");
    if (c.state === "met" || c.state === "met_late") {
      chip.appendChild(span("left", clockLabels.event_met));
    } else {
      var left = span("left", "");
      left.dataset.due = c.due;
      chip.appendChild(left);
    }
    return chip;
  }

  function countdown() {
    var now = Date.now() + skew;
    document.querySelectorAll("#events [data-due]").forEach(function (el) {
      var ms = Date.parse(el.dataset.due) - now;
      var s = Math.floor(Math.abs(ms) / 1000);
      var time = Math.floor(s / 3600) + ":" + ("0" + Math.floor(s / 60) % 60).slice(-2) + ":" + ("0" + s % 60).slice(-2);
      el.textContent = (ms > 0 ? clockLabels.event_left : clockLabels.event_over).replace("{time}", time);
      el.parentNode.classList.toggle("overdue", ms <= 0);
    });
  }

  function events(d) {
    var list = document.getElementById("events");
    skew = Date.parse(d.now) - Date.now();
    clockLabels = d.labels;
    list.textContent = "";
    if (!d.events.length) {
      var none = document.createElement("li"); none.textContent = d.labels.none; list.appendChild(none); return;
    }
    d.events.forEach(function (e) {
      var li = document.createElement("li");
      li.className = "event level-" + e.colour;
      li.appendChild(span("badge", e.level_name));
      li.appendChild(span("what", e.ref + " · " + e.title + " · " + e.source));
      var clocks = document.createElement("div");
      clocks.className = "clocks";
      e.clocks.forEach(function (c) { clocks.appendChild(clockChip(c)); });
      li.appendChild(clocks);
      list.appendChild(li);
    });
    countdown();
  }

  function hot(d) {
    // Topics, the fastest-rising first: bars of their messages, labelled with the rise against their baseline;
    // a clearly rising topic in red; the tooltip adds its areas and an example (names and numbers removed).
    var topics = d.hot.slice(0, 10);
    function escapeHtml(value) {  // the tooltip is HTML: residents' words must stay text
      return String(value).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
    }
    chart("hot").setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        var t = topics[p.dataIndex];
        return [t.name, t.value + " · ↑" + t.rise, t.areas, t.example ? "「" + t.example + "」" : ""]
          .filter(Boolean).map(escapeHtml).join("<br/>");
      } },
      grid: { left: 110, right: 70, top: 6, bottom: 16 },
      xAxis: { type: "value", minInterval: 1, axisLabel: { color: "#8fb3e6" }, splitLine: { lineStyle: { color: "#1d3f70" } } },
      yAxis: { type: "category", inverse: true, data: topics.map(function (t) { return t.name; }),
               axisLabel: { color: "#e8f1ff", fontSize: 13, width: 100, overflow: "truncate" } },
      graphic: topics.length ? [] : [{ type: "text", left: "center", top: "middle",
                                       style: { text: d.labels.none, fill: "#8fb3e6", fontSize: 16, fontFamily: font } }],
      series: [{ type: "bar",
                 data: topics.map(function (t) {
                   return { value: t.value, itemStyle: { color: t.rising ? "#e63946" : "#f4a259" } };
                 }),
                 label: { show: true, position: "right", color: "#e8f1ff",
                          formatter: function (p) { return p.value + " ↑" + topics[p.dataIndex].rise; } } }]
    }, true);
  }

  function trend(d) {
    function line(key, color) {
      return { name: d.labels[key], type: "line", smooth: false, data: d.trend[key], symbolSize: 4,
               itemStyle: { color: color }, areaStyle: { opacity: 0.12 } };
    }
    chart("trend").setOption({
      textStyle: { fontFamily: font },
      tooltip: { trigger: "axis" },
      legend: { textStyle: { color: "#b8cff0" }, top: 0 },
      grid: { left: 36, right: 16, top: 28, bottom: 24 },
      xAxis: { type: "category", data: d.trend.days, axisLabel: { color: "#8fb3e6" } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#8fb3e6" }, splitLine: { lineStyle: { color: "#1d3f70" } } },
      series: [line("wishes", "#5ee7ff"), line("tips", "#ffd166"), line("cases", "#e63946")]
    });
  }

  function draw(d) {
    labels(d.labels);
    counters(d.counters);
    document.getElementById("updated").textContent = d.labels.updated + " " + d.updated;
    map(d); rates(d); overdue(d); events(d); hot(d); trend(d);
    document.body.dataset.ready = "true";
  }

  function refresh() {
    return fetch("/screen/data.json" + query, { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(draw)
      .catch(function (e) { console.error("screen refresh failed", e); });
  }

  fetch("/screen/map.json" + query).then(function (r) { return r.json(); }).then(function (geo) {
    echarts.registerMap("district", geo);
    refresh();
    setInterval(refresh, REFRESH_MS);
    setInterval(countdown, 1000);
  });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
}());
