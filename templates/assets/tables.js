/* Filtering and sorting of tables marked data-filterable. Without JavaScript the full table is
   there and readable; with it, filters are built from the rows' data- attributes. */
(function () {
  "use strict";
  var LABELS = {
    status: "Status", colour: "Colour", owner: "Owner", kq: "Key question",
    statement: "Quality statement", finding: "Finding", type: "Type", category: "Category",
    nature: "Shows", due: "Due"
  };

  function values(rows, key) {
    var seen = {};
    rows.forEach(function (row) {
      (row.getAttribute("data-" + key) || "").split("|").forEach(function (v) {
        if (v) { seen[v] = true; }
      });
    });
    return Object.keys(seen).sort();
  }

  function dueBand(row, asOf, soon) {
    var due = row.getAttribute("data-due");
    if (!due || row.getAttribute("data-open") !== "yes") { return "done"; }
    if (due < asOf) { return "overdue"; }
    return due <= soon ? "soon" : "later";
  }

  function addDays(iso, days) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function setUp(table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = (table.getAttribute("data-filterable") || "").split(" ").filter(Boolean);
    var asOf = table.getAttribute("data-as-of");
    var soon = asOf ? addDays(asOf, parseInt(table.getAttribute("data-soon-days") || "14", 10)) : "";
    var form = document.createElement("form");
    form.className = "filters";
    form.setAttribute("aria-label", "Filter the table");
    var selects = {};
    keys.forEach(function (key) {
      var label = document.createElement("label");
      var select = document.createElement("select");
      select.name = key;
      var id = table.id + "-filter-" + key;
      select.id = id;
      label.htmlFor = id;
      label.textContent = table.getAttribute("data-label-" + key) || LABELS[key] || key;
      var any = document.createElement("option");
      any.value = "";
      any.textContent = "All";
      select.appendChild(any);
      var options = key === "due" ? [["overdue", "Overdue"], ["soon", "Due soon"], ["later", "Later"], ["done", "Completed or closed"]]
        : values(rows, key).map(function (v) { return [v, v]; });
      options.forEach(function (pair) {
        var option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
      select.addEventListener("change", apply);
      selects[key] = select;
      var field = document.createElement("div");
      field.className = "filter";
      field.appendChild(label);
      field.appendChild(select);
      form.appendChild(field);
    });
    var textField = document.createElement("div");
    textField.className = "filter";
    var textLabel = document.createElement("label");
    textLabel.htmlFor = table.id + "-filter-text";
    textLabel.textContent = "Contains";
    var text = document.createElement("input");
    text.type = "search";
    text.id = table.id + "-filter-text";
    text.addEventListener("input", apply);
    textField.appendChild(textLabel);
    textField.appendChild(text);
    form.appendChild(textField);
    var count = document.createElement("p");
    count.className = "filter-count";
    count.setAttribute("role", "status");
    count.id = table.id + "-count";
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var anchor = table.parentNode.classList.contains("table-scroll") ? table.parentNode : table;
    anchor.parentNode.insertBefore(form, anchor);
    anchor.parentNode.insertBefore(count, anchor);

    function apply() {
      var needle = text.value.toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var ok = keys.every(function (key) {
          var want = selects[key].value;
          if (!want) { return true; }
          if (key === "due") { return dueBand(row, asOf, soon) === want; }
          return ("|" + (row.getAttribute("data-" + key) || "") + "|").indexOf("|" + want + "|") >= 0;
        }) && (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = "Showing " + shown + " of " + rows.length + " rows.";
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
      var kind = cell.getAttribute("data-sort");
      if (!kind) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (cell.firstChild) { button.appendChild(cell.firstChild); }
      cell.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = cell.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
        cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var sorted = rows.slice().sort(function (a, b) {
          var x = a.cells[column].getAttribute("data-value") || a.cells[column].textContent.trim();
          var y = b.cells[column].getAttribute("data-value") || b.cells[column].textContent.trim();
          var order = kind === "number" ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "en-GB", { numeric: true });
          return ascending ? order : -order;
        });
        sorted.forEach(function (row) { body.appendChild(row); });
      });
    });
    apply();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-filterable]"), setUp);
})();
