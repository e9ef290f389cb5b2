/* Search as you type, from file:// with no network: the index is window.PORTFOLIO_SEARCH,
   loaded by a plain script element. Results are built with DOM calls, never innerHTML. */
(function () {
  "use strict";
  var data = window.PORTFOLIO_SEARCH;
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!data || !input || !list || !status) { return; }

  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  var records = data.entries.map(function (entry) {
    var head = fold(entry.id + " " + entry.title);
    var rest = fold([entry.kind, entry.owner, entry.statements.join(" "), entry.text].join(" "));
    return { entry: entry, head: head, rest: rest };
  });

  function snippet(entry, words) {
    var text = entry.text || "";
    var folded = fold(text);
    var at = -1, length = 0;
    for (var i = 0; i < words.length; i++) {
      at = folded.indexOf(words[i]);
      if (at >= 0) { length = words[i].length; break; }
    }
    var p = document.createElement("p");
    p.className = "snippet";
    if (at < 0) {
      p.textContent = text.slice(0, 160) + (text.length > 160 ? "…" : "");
      return p;
    }
    var start = Math.max(0, at - 70), end = Math.min(text.length, at + length + 90);
    p.appendChild(document.createTextNode((start > 0 ? "…" : "") + text.slice(start, at)));
    var mark = document.createElement("mark");
    mark.textContent = text.slice(at, at + length);
    p.appendChild(mark);
    p.appendChild(document.createTextNode(text.slice(at + length, end) + (end < text.length ? "…" : "")));
    return p;
  }

  function search(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) {
      status.textContent = "Type a word to search " + records.length + " records.";
      return;
    }
    var hits = [];
    records.forEach(function (record) {
      var score = 0;
      for (var i = 0; i < words.length; i++) {
        if (record.head.indexOf(words[i]) >= 0) { score += 10; }
        else if (record.rest.indexOf(words[i]) >= 0) { score += 1; }
        else { return; }
      }
      hits.push({ record: record, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    var shown = hits.slice(0, 50);
    status.textContent = hits.length === 0 ? "No records match “" + query + "”." :
      hits.length + (hits.length === 1 ? " record matches" : " records match") +
      (hits.length > shown.length ? "; the first " + shown.length + " are shown." : ".");
    shown.forEach(function (hit) {
      var entry = hit.record.entry;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.id + " " + entry.title;
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = entry.kind + (entry.statements.length ? " · " + entry.statements.join(", ") : "") +
        (entry.owner ? " · " + entry.owner : "");
      var heading = document.createElement("h2");
      heading.appendChild(link);
      item.appendChild(heading);
      item.appendChild(meta);
      item.appendChild(snippet(entry, words));
      list.appendChild(item);
    });
  }

  var params = new URLSearchParams(window.location.search);
  if (params.get("q")) { input.value = params.get("q"); }
  input.addEventListener("input", function () { search(input.value); });
  search(input.value);
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    search(input.value);
  });
  document.documentElement.classList.add("search-ready");
})();
