// The comparison view: two to five models side by side. Its data is embedded in the page as
// JSON (no fetch(), so it works from file://); everything is built with the DOM API and
// textContent, so a model key is always text.
(function () {
  "use strict";
  var MAX = 5;
  var models = JSON.parse(document.getElementById("site-data").textContent);
  var byKey = {};
  models.forEach(function (m) { byKey[m.key] = m; });
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#picker input[type=checkbox]"));
  var out = document.getElementById("comparison");
  var message = document.getElementById("compare-message");
  var METRICS = [
    ["gpu_wh_per_1000_queries", "GPU energy, Wh / 1,000 queries", "gpu"],
    ["total_wh_per_1000_queries", "Total energy, Wh / 1,000 queries", "total"],
    ["joules_per_token", "Energy per token, J", "total"],
    ["completion_tokens_per_second", "Generated tokens / s", "throughput"]
  ];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function fmt(value) {
    if (value === null) { return "—"; }
    if (Math.abs(value) >= 1000) { return Math.round(value).toLocaleString("en"); }
    return String(Number(value.toPrecision(3)));
  }

  function figureText(f) {
    if (f.value === null) { return "unknown: " + f.reason; }
    var text = fmt(f.value);
    if (f.low !== null) { text += " [" + fmt(f.low) + "–" + fmt(f.high) + "]"; }
    return text + (f.estimated ? " (est.)" : "");
  }

  var picked = [];  // in the order chosen (or as named in the address)

  function pick(box) {
    picked = picked.filter(function (k) { return k !== box.value; });
    if (box.checked) { picked.push(box.value); }
    render();
  }

  function column(m, maxima) {
    var col = el("article", "compare-col");
    col.setAttribute("data-model", m.key);
    var title = el("h2");
    var link = el("a", null, m.key);
    link.href = "models/" + encodeURIComponent(m.page) + ".html";
    title.appendChild(link);
    col.appendChild(title);
    col.appendChild(el("p", "badge status-" + m.status, m.status));
    if (m.failure) { col.appendChild(el("p", "why failure", m.failure)); }
    col.appendChild(el("p", "stars-text", m.rating.stars === null
      ? "unrated: " + m.rating.reason : m.rating.stars + " of 5 stars"));
    if (m.label) {
      var label = el("img", "label");
      label.src = m.label;
      label.alt = "Energy label of " + m.key;
      col.appendChild(label);
    } else {
      col.appendChild(el("p", "missing", "No label"));
    }
    METRICS.forEach(function (metric) {
      var f = m[metric[0]];
      var row = el("div", "metric");
      row.appendChild(el("span", "metric-name", metric[1]));
      var bar = el("span", "bar bar-" + metric[2]);
      bar.style.width = f.value === null || !maxima[metric[0]] ? "0" :
        (100 * f.value / maxima[metric[0]]).toFixed(1) + "%";
      var track = el("span", "track");
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el("span", "metric-value", figureText(f)));
      col.appendChild(row);
    });
    m.figures.forEach(function (fig) {
      var figure = el("figure");
      var img = el("img");
      img.src = fig.path;
      img.alt = fig.title + " of " + m.key;
      figure.appendChild(img);
      figure.appendChild(el("figcaption", null, fig.title));
      col.appendChild(figure);
    });
    if (!m.figures.length) {
      col.appendChild(el("p", "missing", "No figures were drawn for this run."));
    }
    return col;
  }

  function render() {
    var keys = picked;
    boxes.forEach(function (b) { b.disabled = !b.checked && keys.length >= MAX; });
    document.getElementById("picked-count").textContent = String(keys.length);
    var address = keys.length ? "#models=" + keys.map(encodeURIComponent).join(",") : "#";
    history.replaceState(null, "", address);
    out.textContent = "";
    if (keys.length < 2) {
      message.textContent = "Pick at least two models (at most " + MAX + ").";
      return;
    }
    message.textContent = "Comparing " + keys.length + " models.";
    var maxima = {};
    METRICS.forEach(function (metric) {
      maxima[metric[0]] = Math.max.apply(null, keys.map(function (k) {
        return byKey[k][metric[0]].value || 0;
      }));
    });
    keys.forEach(function (k) { out.appendChild(column(byKey[k], maxima)); });
  }

  function fromAddress() {
    var match = /models=([^&]*)/.exec(location.hash);
    var wanted = match ? match[1].split(",").map(decodeURIComponent) : [];
    picked = wanted.filter(function (k, i) {
      return byKey.hasOwnProperty(k) && wanted.indexOf(k) === i;
    }).slice(0, MAX);
    boxes.forEach(function (b) { b.checked = picked.indexOf(b.value) !== -1; });
  }

  // At 200 models the picker is long: a search narrows it; picked models always stay listed.
  var search = document.getElementById("picker-search");
  var shownCount = document.getElementById("picker-shown");
  function narrow() {
    var needle = search.value.trim().toLowerCase();
    var visible = 0;
    boxes.forEach(function (b) {
      var label = b.parentNode;
      var keep = b.checked || label.getAttribute("data-search").indexOf(needle) !== -1;
      label.hidden = !keep;
      visible += keep ? 1 : 0;
    });
    shownCount.textContent = needle ? visible + " of " + boxes.length + " listed" : "";
  }
  search.addEventListener("input", narrow);

  boxes.forEach(function (b) { b.addEventListener("change", function () { pick(b); }); });
  window.addEventListener("hashchange", function () { fromAddress(); render(); });
  fromAddress();
  render();
}());
