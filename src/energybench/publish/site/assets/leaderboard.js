// The leaderboard's sorting, filters and search. Hand-written, no library; the table is
// complete without it (rendered on the server side), so this only reorders and hides rows.
// Model keys are read from data attributes and never written back as markup.
(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);

  function cellValue(row, column, kind) {
    var text = row.cells[column].getAttribute("data-value");
    if (text === null || text === "") { return null; }   // unknown: always sorted last
    return kind === "number" ? parseFloat(text) : text.toLowerCase();
  }

  function sortBy(header, direction) {
    var column = headers.indexOf(header);
    var kind = header.getAttribute("data-kind");
    var sign = direction === "ascending" ? 1 : -1;
    var ordered = rows.slice().sort(function (a, b) {
      var x = cellValue(a, column, kind), y = cellValue(b, column, kind);
      if (x === null || y === null) { return (x === null) - (y === null); }
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return 0;
    });
    headers.forEach(function (h) {
      h.setAttribute("aria-sort", h === header ? direction : "none");
    });
    ordered.forEach(function (row) { body.appendChild(row); });
  }

  headers.forEach(function (header) {
    // A <button> in each header: reachable with Tab, activated by Enter or Space.
    header.querySelector("button").addEventListener("click", function () {
      var next = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      sortBy(header, next);
    });
  });

  var search = document.getElementById("search");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var shown = document.getElementById("shown");
  var noMatch = document.getElementById("no-match");
  // One tab per rating group (task, and class for text generation): its models alone, in
  // their rank by the figure the stars rate.
  var tabs = Array.prototype.slice.call(document.querySelectorAll("#group-tabs button"));
  var group = "";

  function chooseTab(tab) {
    group = tab.getAttribute("data-group");
    tabs.forEach(function (t) { t.setAttribute("aria-pressed", String(t === tab)); });
    sortBy(headers.filter(function (h) { return h.getAttribute("data-key") === "rank"; })[0],
           "ascending");
    applyFilters();
  }

  function applyFilters() {
    var needle = search.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var keep = row.getAttribute("data-search").indexOf(needle) !== -1
        && (!group || row.getAttribute("data-group") === group);
      selects.forEach(function (select) {
        var wanted = select.value;
        if (wanted && row.getAttribute("data-" + select.getAttribute("data-filter")) !== wanted) {
          keep = false;
        }
      });
      row.hidden = !keep;
      visible += keep ? 1 : 0;
    });
    shown.textContent = "Showing " + visible + " of " + rows.length + " models";
    noMatch.hidden = visible !== 0;
  }

  search.addEventListener("input", applyFilters);
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { chooseTab(tab); });
  });
  selects.forEach(function (select) { select.addEventListener("change", applyFilters); });
  applyFilters();
}());
