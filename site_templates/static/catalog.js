/* star-vm-catalog inventory script: search, facets and sorting of the image table.
 *
 * Plain JavaScript, no build step, no dependency, no inline code (the pages' Content Security
 * Policy allows scripts from this site only). Without it every page still works: the inventory
 * table (or, for a large catalog, the listing pages) lists and links every image.
 *
 * The filter state lives in the URL query, so filtered views can be linked and Back works:
 *   q=<text>  <facet>=<value> (repeatable; facet names are catalog.json fields)  sort=[-]<column>
 * Repository strings are only ever inserted with textContent and attribute setters.
 */
(function () {
  "use strict";

  var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

  function init() {
    var app = document.getElementById("catalog");
    if (app) {
      new Inventory(app).start();
    }
  }

  /* ---------- the inventory ---------- */

  function Inventory(app) {
    this.app = app;
    this.table = document.getElementById("inventory");
    this.tbody = this.table.tBodies[0];
    this.input = document.getElementById("q");
    this.counter = document.getElementById("result-count");
    this.more = document.getElementById("show-more");
    this.clear = document.getElementById("clear-filters");
    this.empty = document.getElementById("no-results");
    this.filters = document.getElementById("filters");
    this.pageSize = Number(app.getAttribute("data-page-size")) || 0;
    this.columns = Array.prototype.map.call(this.table.tHead.rows[0].cells, function (th) {
      return { key: th.getAttribute("data-key"), numeric: th.classList.contains("num"), th: th };
    });
    this.facets = Array.prototype.map.call(app.querySelectorAll("fieldset[data-facet]"), readFacet);
    this.labels = {};
    this.facets.forEach(function (facet) { this.labels[facet.name] = facet.labels; }, this);
    this.records = [];
    this.ordered = null;
    this.shown = [];
    this.lastChange = "";
    this.state = { q: "", selected: {}, all: {}, sort: "", descending: false, limit: this.pageSize };
  }

  /* A facet fieldset: its checkboxes by value, their count elements and labels. */
  function readFacet(fieldset) {
    var facet = { name: fieldset.getAttribute("data-facet"), hide: fieldset.getAttribute("data-hide") || "", searched: fieldset.getAttribute("data-search") !== "no", boxes: {}, labels: {} };
    Array.prototype.forEach.call(fieldset.querySelectorAll("input[type=checkbox]"), function (box) {
      var label = box.closest("label");
      facet.boxes[box.value] = { input: box, count: label.querySelector(".facet-count"), label: label };
      facet.labels[box.value] = label.querySelector(".facet-label").textContent;
    });
    return facet;
  }

  Inventory.prototype.start = function () {
    var self = this;
    this.makeSortButtons();
    if (this.filters && window.matchMedia("(max-width: 52rem)").matches) {
      this.filters.open = false;
    }
    this.load().then(function (records) {
      self.records = records;
      self.readUrl(true);
      self.listen();
      self.apply();
      self.app.setAttribute("data-ready", "true");
      if (window.performance && performance.mark) { performance.mark("catalog-ready"); }
    }, function () {
      self.counter.textContent = "Search is unavailable: the image list (" +
        self.app.getAttribute("data-index") + ") could not be loaded. " +
        "Serve the site over HTTP, or use the listing pages below.";
    });
  };

  /* Records come from the table itself (small catalogs) or from search-index.json. */
  Inventory.prototype.load = function () {
    var url = this.app.getAttribute("data-index");
    if (!url) {
      return Promise.resolve(Array.prototype.map.call(this.tbody.rows, this.recordFromRow, this));
    }
    var self = this;
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) { return self.recordsFromIndex(data); });
  };

  Inventory.prototype.recordFromRow = function (tr, index) {
    var values = {};
    this.columns.forEach(function (column) { values[column.key] = tr.getAttribute("data-" + column.key) || ""; });
    this.facets.forEach(function (facet) { values[facet.name] = tr.getAttribute("data-" + facet.name) || ""; });
    return this.makeRecord(values, index, tr, null);
  };

  Inventory.prototype.recordsFromIndex = function (data) {
    var at = {};
    data.fields.forEach(function (name, i) { at[name] = i; });
    var preview = this.tbody.rows;
    return data.rows.map(function (row, index) {
      var values = {};
      Object.keys(at).forEach(function (name) {
        var value = row[at[name]];
        values[name] = value === null || value === undefined ? "" : String(value);
      });
      var display = Object.assign({}, values);
      values.max_size = values.max_size_bytes;
      var tr = preview[index] && preview[index].getAttribute("data-name") === values.name ? preview[index] : null;
      return this.makeRecord(values, index, tr, display);
    }, this);
  };

  /* values: raw field values as strings; display: what a built row shows (index mode only). */
  Inventory.prototype.makeRecord = function (values, index, tr, display) {
    var words = [values.name, values.detail];
    this.facets.forEach(function (facet) {
      var value = values[facet.name];
      if (!facet.searched) { return; }
      words.push(value, this.labels[facet.name][value] || "");
    }, this);
    return { index: index, values: values, text: words.join(" ").toLowerCase(), tr: tr, display: display };
  };

  /* ---------- state <-> URL ---------- */

  Inventory.prototype.readUrl = function (initial) {
    var params = new URLSearchParams(window.location.search);
    var state = this.state;
    state.q = params.has("q") || !initial ? params.get("q") || "" : this.input.value;
    state.selected = {};
    state.all = {};
    this.facets.forEach(function (facet) {
      var values = params.getAll(facet.name);
      if (facet.hide && values.indexOf("all") !== -1) { state.all[facet.name] = true; }
      values = values.filter(function (value) { return !state.all[facet.name] || value !== "all"; });
      if (values.length) { state.selected[facet.name] = new Set(values); }
    });
    var sort = params.get("sort") || "";
    state.descending = sort.charAt(0) === "-";
    sort = state.descending ? sort.slice(1) : sort;
    state.sort = this.columns.some(function (c) { return c.key === sort; }) ? sort : "";
    state.limit = this.pageSize;
    this.ordered = null;
    this.syncControls();
  };

  Inventory.prototype.query = function () {
    var params = new URLSearchParams();
    var state = this.state;
    if (state.q) { params.append("q", state.q); }
    this.facets.forEach(function (facet) {
      var selected = state.selected[facet.name];
      if (selected) { selected.forEach(function (value) { params.append(facet.name, value); }); }
      if (state.all[facet.name]) { params.append(facet.name, "all"); }
    });
    if (state.sort) { params.append("sort", (state.descending ? "-" : "") + state.sort); }
    var text = params.toString();
    return text ? "?" + text : "";
  };

  /* Typing replaces the history entry it started; every other change adds one, for Back. */
  Inventory.prototype.remember = function (kind) {
    var url = window.location.pathname + this.query() + window.location.hash;
    if (kind === "q" && this.lastChange === "q") {
      window.history.replaceState(null, "", url);
    } else {
      window.history.pushState(null, "", url);
    }
    this.lastChange = kind;
  };

  Inventory.prototype.syncControls = function () {
    var state = this.state;
    this.input.value = state.q;
    this.facets.forEach(function (facet) {
      var selected = state.selected[facet.name];
      Object.keys(facet.boxes).forEach(function (value) {
        facet.boxes[value].input.checked = Boolean(selected && selected.has(value));
      });
    });
    this.columns.forEach(function (column) {
      if (column.key === state.sort) {
        column.th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
      } else {
        column.th.removeAttribute("aria-sort");
      }
    });
  };

  /* ---------- events ---------- */

  Inventory.prototype.listen = function () {
    var self = this;
    this.input.addEventListener("input", function () {
      self.state.q = self.input.value;
      self.changed("q");
    });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && self.input.value) {
        self.input.value = "";
        self.state.q = "";
        self.changed("q");
      }
    });
    this.facets.forEach(function (facet) {
      Object.keys(facet.boxes).forEach(function (value) {
        facet.boxes[value].input.addEventListener("change", function (event) {
          self.toggle(facet.name, value, event.target.checked);
        });
      });
    });
    this.more.addEventListener("click", function () {
      self.state.limit += self.pageSize;
      self.render(false);
    });
    [this.clear, document.getElementById("reset")].forEach(function (button) {
      button.addEventListener("click", function () { self.reset(); });
    });
    window.addEventListener("popstate", function () {
      self.readUrl(false);
      self.lastChange = "";
      self.apply();
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        self.input.focus();
      }
    });
  };

  Inventory.prototype.changed = function (kind) {
    this.state.limit = this.pageSize;
    this.remember(kind);
    this.apply();
  };

  Inventory.prototype.toggle = function (name, value, on) {
    var selected = this.state.selected[name] || new Set();
    if (on) { selected.add(value); } else { selected.delete(value); }
    if (selected.size) { this.state.selected[name] = selected; } else { delete this.state.selected[name]; }
    this.changed("facet");
  };

  Inventory.prototype.reset = function () {
    this.state.q = "";
    this.state.selected = {};
    this.state.all = {};
    this.syncControls();
    this.changed("reset");
    this.input.focus();
  };

  Inventory.prototype.makeSortButtons = function () {
    var self = this;
    this.columns.forEach(function (column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = column.th.textContent;
      column.th.textContent = "";
      column.th.appendChild(button);
      button.addEventListener("click", function () {
        var state = self.state;
        state.descending = state.sort === column.key ? !state.descending : false;
        state.sort = column.key;
        self.ordered = null;
        self.syncControls();
        self.changed("sort");
      });
    });
  };

  /* ---------- filtering, counting, sorting ---------- */

  Inventory.prototype.apply = function () {
    var result = this.filter();
    this.matches = result.matches;
    this.updateFacetCounts(result.counts);
    this.render(true);
  };

  /* One pass: the matching records, and per facet value the count it would have if chosen
   * (a record that fails only facet F still counts towards F's values). */
  Inventory.prototype.filter = function () {
    var terms = this.state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var active = this.facets.filter(function (f) { return this.state.selected[f.name]; }, this);
    /* A facet's hidden value (end of life) counts as not chosen until chosen or `<facet>=all`. */
    var hiding = this.facets.filter(function (f) {
      return f.hide && !this.state.selected[f.name] && !this.state.all[f.name];
    }, this);
    this.hidden = 0;
    var counts = {};
    this.facets.forEach(function (f) { counts[f.name] = {}; });
    var matches = [];
    var records = this.sorted();
    for (var i = 0; i < records.length; i++) {
      var record = records[i];
      if (!matchesText(record.text, terms)) { continue; }
      var failed = null;
      var failures = 0;
      for (var j = 0; j < active.length && failures < 2; j++) {
        if (!this.state.selected[active[j].name].has(record.values[active[j].name])) {
          failed = active[j].name;
          failures++;
        }
      }
      for (var h = 0; h < hiding.length && failures < 2; h++) {
        if (record.values[hiding[h].name] === hiding[h].hide) {
          if (failures === 0) { this.hidden++; }
          failed = hiding[h].name;
          failures++;
        }
      }
      if (failures === 0) { matches.push(record); }
      if (failures < 2) { this.countRecord(record, counts, failed); }
    }
    return { matches: matches, counts: counts };
  };

  function matchesText(text, terms) {
    for (var i = 0; i < terms.length; i++) {
      if (text.indexOf(terms[i]) === -1) { return false; }
    }
    return true;
  }

  Inventory.prototype.countRecord = function (record, counts, only) {
    for (var k = 0; k < this.facets.length; k++) {
      var name = this.facets[k].name;
      if (only === null || only === name) {
        var value = record.values[name];
        counts[name][value] = (counts[name][value] || 0) + 1;
      }
    }
  };

  Inventory.prototype.updateFacetCounts = function (counts) {
    this.facets.forEach(function (facet) {
      Object.keys(facet.boxes).forEach(function (value) {
        var box = facet.boxes[value];
        var count = String(counts[facet.name][value] || 0);
        if (box.count.textContent !== count) { box.count.textContent = count; }
        box.label.classList.toggle("zero", count === "0" && !box.input.checked);
      });
    });
  };

  /* Records in the chosen order (catalog order when none); cached until the sort changes. */
  Inventory.prototype.sorted = function () {
    if (this.ordered) { return this.ordered; }
    var key = this.state.sort;
    if (!key) {
      this.ordered = this.records;
      return this.ordered;
    }
    var column = this.columns.filter(function (c) { return c.key === key; })[0];
    var sign = this.state.descending ? -1 : 1;
    var sortValue = this.sortValue.bind(this, key, column.numeric);
    var keyed = this.records.map(function (record) { return { record: record, value: sortValue(record) }; });
    keyed.sort(function (a, b) {
      var missing = (a.value === null) - (b.value === null);
      if (missing) { return missing; }
      var order = a.value === null ? 0 : compareValues(a.value, b.value);
      return order ? sign * order : a.record.index - b.record.index;
    });
    this.ordered = keyed.map(function (item) { return item.record; });
    return this.ordered;
  };

  Inventory.prototype.sortValue = function (key, numeric, record) {
    var value = record.values[key];
    if (value === "" || value === undefined) { return null; }
    if (numeric) { return Number(value); }
    var labels = this.labels[key];
    return key === "status" || key === "vm" ? labels[value] || value : value;
  };

  function compareValues(a, b) {
    return typeof a === "number" ? a - b : collator.compare(a, b);
  }

  /* ---------- output ---------- */

  Inventory.prototype.render = function (reset) {
    var matches = this.matches;
    var limit = this.state.limit;
    var visible = limit && matches.length > limit ? matches.slice(0, limit) : matches;
    if (!sameRecords(visible, this.shown)) {
      var fragment = document.createDocumentFragment();
      for (var i = 0; i < visible.length; i++) {
        var record = visible[i];
        fragment.appendChild(record.tr || (record.tr = this.buildRow(record)));
      }
      this.tbody.textContent = "";
      this.tbody.appendChild(fragment);
      this.shown = visible;
    }
    this.describe(matches.length, visible.length);
    if (reset && this.filters) { this.summarizeFilters(); }
  };

  function sameRecords(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) { return false; }
    }
    return true;
  }

  Inventory.prototype.describe = function (matching, visible) {
    var total = this.records.length;
    var filtered = this.isFiltered();
    var text;
    if (!filtered) {
      text = "All " + number(total) + " images";
    } else {
      text = number(matching) + (matching === 1 ? " image matches" : " images match") + " (of " + number(total) + ")";
    }
    if (visible < matching) { text += ", showing the first " + number(visible); }
    if (this.hidden) { text += "; " + number(this.hidden) + " end of life not shown"; }
    this.counter.textContent = text;
    this.more.hidden = visible >= matching;
    var rest = matching - visible;
    this.more.textContent = "Show " + number(Math.min(this.pageSize, rest)) + " more (" + number(rest) + " not shown)";
    this.clear.hidden = !filtered;
    this.empty.hidden = matching !== 0 || total === 0;
    this.table.hidden = matching === 0;
  };

  Inventory.prototype.isFiltered = function () {
    return Boolean(this.state.q.trim()) || Object.keys(this.state.selected).length > 0;
  };

  Inventory.prototype.summarizeFilters = function () {
    var summary = this.filters.querySelector("summary");
    var active = 0;
    var selected = this.state.selected;
    Object.keys(selected).forEach(function (name) { active += selected[name].size; });
    summary.textContent = active ? "Filters (" + active + " active)" : "Filters";
  };

  function number(value) {
    return value.toLocaleString("en");
  }

  /* A table row for a record from search-index.json, the same cells as the server's rows. */
  Inventory.prototype.buildRow = function (record) {
    var tr = document.createElement("tr");
    var shown = record.display;
    this.columns.forEach(function (column) {
      tr.appendChild(this.buildCell(column, shown));
    }, this);
    tr.setAttribute("data-name", shown.name);
    return tr;
  };

  Inventory.prototype.buildCell = function (column, shown) {
    var key = column.key;
    if (key === "name") {
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "name";
      var link = document.createElement("a");
      link.setAttribute("href", shown.url);
      appendBreakable(link, shown.name);
      th.appendChild(link);
      if (shown.lifecycle && shown.lifecycle !== "current") {
        var flag = document.createElement("span");
        flag.className = "badge lifecycle-" + shown.lifecycle;
        flag.textContent = (this.labels.lifecycle || {})[shown.lifecycle] || shown.lifecycle;
        th.appendChild(document.createTextNode(" "));
        th.appendChild(flag);
      }
      return th;
    }
    var td = document.createElement("td");
    if (column.numeric) { td.className = "num"; }
    if (key === "status") {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.classList.add("status-" + shown.status);
      badge.textContent = this.labels.status[shown.status] || shown.status;
      td.appendChild(badge);
    } else if (key === "verified_at") {
      td.className = "time";
      if (shown.verified_at) {
        var time = document.createElement("time");
        time.setAttribute("datetime", shown.verified_at);
        time.textContent = shown.verified;
        td.appendChild(time);
      } else {
        td.textContent = "never";
      }
    } else {
      td.textContent = cellText(key, shown, this.labels);
    }
    return td;
  };

  /* The name as text, with a line-break opportunity after each "_" (as the server renders it). */
  function appendBreakable(parent, name) {
    name.split("_").forEach(function (part, i, parts) {
      parent.appendChild(document.createTextNode(i < parts.length - 1 ? part + "_" : part));
      if (i < parts.length - 1) { parent.appendChild(document.createElement("wbr")); }
    });
  }

  function cellText(key, shown, labels) {
    if (key === "vm") { return labels.vm[shown.vm] || shown.vm; }
    if (key === "size_bytes") { return shown.size; }
    if (key === "detail") { return shown.detail; }
    return shown[key] || "—";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
