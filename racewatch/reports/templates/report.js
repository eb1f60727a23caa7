/* racewatch HTML report: source filling, filters, sort, print.  It reads the program's data
   only from the escaped DOM (dataset, textContent, cloned nodes) and never writes HTML. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("js");
  var list = doc.getElementById("races");
  var races = list ? Array.prototype.slice.call(list.children) : [];

  /* Stacks and source lines are in the page once, in #shared, however many races show them;
     a race takes its copies when it is opened, so a thousand races stay a small file and a
     fast page.  A copied stack holds references to source lines in turn: hence the loop. */
  var shared = doc.getElementById("shared");
  var context = shared ? +shared.dataset.context : 0;

  function sourceLine(file, n) {
    return doc.getElementById(file + "-" + n);
  }

  /* A racing line's window: its context lines around it, it marked.  A fix's window
     (data-from, data-to, data-marks): those lines, the lines to change marked. */
  function fillSource(hole) {
    var file = hole.dataset.file;
    var n = +hole.dataset.line;
    if (hole.classList.contains("srcline")) {
      var line = sourceLine(file, n);
      hole.textContent = line ? line.textContent.trim() : "";
      return;
    }
    var fix = hole.dataset.marks !== undefined;
    var from = fix ? +hole.dataset.from : n - context;
    var to = fix ? +hole.dataset.to : n + context;
    var marks = fix ? hole.dataset.marks.split(" ").map(Number) : [n];
    var pre = doc.createElement("pre");
    pre.className = "code";
    for (var k = from; k <= to; k++) {
      var original = sourceLine(file, k);
      if (!original) continue;
      var copy = original.cloneNode(true);
      copy.removeAttribute("id");
      if (marks.indexOf(k) >= 0) copy.classList.add(fix ? "fixline" : "mark");
      pre.appendChild(copy);
    }
    hole.textContent = "";
    hole.appendChild(pre);
  }

  function fillStack(hole) {
    var block = doc.getElementById(hole.dataset.ref);
    if (!block) return;
    var body = block.querySelector(".blk-body");
    hole.textContent = "";
    for (var n = body.firstElementChild; n; n = n.nextElementSibling) {
      hole.appendChild(n.cloneNode(true));
    }
  }

  function fill(scope) {
    var holes;
    var empty = "[data-ref]:not([data-filled]), [data-file]:not([data-filled])";
    while ((holes = scope.querySelectorAll(empty)).length) {
      for (var i = 0; i < holes.length; i++) {
        var hole = holes[i];
        hole.setAttribute("data-filled", "");
        if (hole.dataset.file) fillSource(hole); else fillStack(hole);
      }
    }
  }

  function openRace(race) {
    race.open = true;
    fill(race);
  }

  if (list) {
    /* toggle does not bubble; a capturing listener on the list still sees it. */
    list.addEventListener("toggle", function (event) {
      if (event.target.open) fill(event.target);
    }, true);
    races.forEach(function (race) { if (race.open) fill(race); });
  }

  function showTarget() {
    var id;
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (malformed) {
      return;
    }
    var target = id && doc.getElementById(id);
    if (target && target.classList.contains("race")) {
      target.hidden = false;
      openRace(target);
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", showTarget);
  showTarget();

  /* Filters: each race lists the indices of its files, threads and tests in data-*. */
  function control(id) { return doc.getElementById(id); }
  var facets = [["f-problem", "g"], ["f-file", "f"], ["f-thread", "t"], ["f-test", "x"]].map(function (pair) {
    return { select: control(pair[0]), key: pair[1] };
  }).filter(function (facet) { return facet.select; });
  var text = control("f-text");
  var shown = control("shown");
  var titles = null;

  function has(race, key, value) {
    return (" " + race.dataset[key] + " ").indexOf(" " + value + " ") >= 0;
  }

  function applyFilters() {
    var needle = text ? text.value.trim().toLowerCase() : "";
    if (needle && !titles) {
      titles = races.map(function (race) {
        return race.querySelector("summary").textContent.toLowerCase();
      });
    }
    var count = 0;
    races.forEach(function (race, i) {
      var ok = facets.every(function (facet) {
        return !facet.select.value || has(race, facet.key, facet.select.value);
      }) && (!needle || titles[i].indexOf(needle) >= 0);
      race.hidden = !ok;
      if (ok) count++;
    });
    if (shown) shown.textContent = count + " of " + races.length + " shown";
  }
  facets.forEach(function (facet) { facet.select.addEventListener("change", applyFilters); });
  if (text) text.addEventListener("input", applyFilters);

  var sort = control("sort");
  if (sort) {
    sort.addEventListener("change", function () {
      var by = sort.value;
      var ordered = races.slice().sort(function (a, b) {
        var n = +a.dataset.n - +b.dataset.n;
        if (by === "count") return (+b.dataset.count - +a.dataset.count) || n;
        if (by === "file") {
          return (+a.dataset.p - +b.dataset.p) || (+a.dataset.line - +b.dataset.line) || n;
        }
        return n;
      });
      var fragment = doc.createDocumentFragment();
      ordered.forEach(function (race) { fragment.appendChild(race); });
      list.appendChild(fragment);
    });
  }

  function setAll(open) {
    races.forEach(function (race) {
      if (race.hidden) return;
      if (open) openRace(race); else race.open = false;
    });
  }
  var expand = control("expand");
  var collapse = control("collapse");
  if (expand) expand.addEventListener("click", function () { setAll(true); });
  if (collapse) collapse.addEventListener("click", function () { setAll(false); });

  /* Print everything expanded, then give the reader back the page as it was. */
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(doc.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    closed.forEach(function (d) { d.open = true; });
    if (list) fill(list);
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
})();
