// Filter and sort the changes table; no network, no libraries.
(function () {
  "use strict";
  var table = document.getElementById("changes");
  if (!table) { return; }
  var body = table.tBodies[0];
  var search = document.getElementById("f-search");
  var status = document.getElementById("f-status");
  var direction = document.getElementById("f-direction");
  var counter = document.getElementById("f-count");

  function apply() {
    var text = search.value.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = (!text || row.dataset.search.indexOf(text) !== -1) &&
        (!status.value || row.dataset.status === status.value) &&
        (!direction.value || row.dataset.direction === direction.value);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    counter.textContent = shown + " of " + body.rows.length + " products";
  }

  function sortBy(index, numeric, th) {
    var descending = th.getAttribute("aria-sort") === "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.v !== undefined ? a.cells[index].dataset.v : a.cells[index].textContent;
      var y = b.cells[index].dataset.v !== undefined ? b.cells[index].dataset.v : b.cells[index].textContent;
      var r;
      if (numeric) {
        x = x === "" ? -Infinity : parseFloat(x);
        y = y === "" ? -Infinity : parseFloat(y);
        r = x - y;
      } else {
        r = x.localeCompare(y);
      }
      return descending ? -r : r;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  [search, status, direction].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.addEventListener("click", function () { sortBy(index, th.dataset.type === "num", th); });
  });
  apply();
})();
