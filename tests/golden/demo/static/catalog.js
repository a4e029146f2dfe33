/* star-vm-catalog inventory script: search, facets and sorting of the image table.
 *
 * Plain JavaScript, no build step, no dependency, no inline code (the pages' Content Security
 * Policy allows scripts from this site only). Without it every page still works: the inventory
 * table (or, for a large catalog, the listing pages) lists and links every image.
 *
 * The filter state lives in the URL query, so filtered views can be linked and Back works:
 *   q=<text>  <facet>=<value> (repeatable; facet names are catalog.json fields)  sort=[-]<key>
 * Facet values match without case (`os=SL6.4` is `os=sl6.4`); the URL keeps what was written.
 * Search words are split by `tokens`, the same rule as generator/site/search_words.py.
 * Repository strings are only ever inserted with textContent and attribute setters.
 */
(function () {
  "use strict";

  var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  var RUN = /[\p{L}\p{N}]+/gu;
  var PARTS = /\p{N}+|\p{L}+/gu;
  var NUMBER = /^\p{N}+$/u;
  var HEX = /^[0-9a-f]{8,}$/;
  var SORT_FIELD = { max_size: "max_size_bytes" };  // sort keys whose values are elsewhere
  var EXPORT_FIELDS = ["name", "vm", "os", "arch", "word_size", "star_lib", "max_size", "max_size_bytes",
    "detail", "size_bytes", "format", "status", "verified_at", "first_seen", "last_changed", "md5", "url"];
  var NUMERIC_EXPORT = { word_size: true, max_size_bytes: true, size_bytes: true };

  /* Runs of letters and digits, lower-cased: the words of search-index.json and of a query. */
  function tokens(text) {
    return String(text).toLowerCase().match(RUN) || [];
  }

  /* What one typed word must match (see searchTerm): the run, its parts, what kind it is. */
  function searchTerms(query) {
    return tokens(query).map(function (run) {
      var parts = run.match(PARTS);
      return { run: run, number: NUMBER.test(run), hex: HEX.test(run), parts: parts.length > 1 ? parts : null };
    });
  }

  /* A number matches a whole number; other words the start of a word; 8+ hex digits an MD5. */
  function wordMatches(text, word, number) {
    return text.indexOf(number ? " " + word + " " : " " + word) !== -1;
  }

  function termMatches(record, term) {
    if (term.hex && record.md5.lastIndexOf(term.run, 0) === 0) { return true; }
    if (wordMatches(record.text, term.run, term.number)) { return true; }
    if (!term.parts) { return false; }
    for (var i = 0; i < term.parts.length; i++) {
      if (!wordMatches(record.text, term.parts[i], NUMBER.test(term.parts[i]))) { return false; }
    }
    return true;
  }

  window.StarCatalog = { tokens: tokens };

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
    this.sortMenu = document.getElementById("sort");
    this.counter = document.getElementById("result-count");
    this.more = document.getElementById("show-more");
    this.clear = document.getElementById("clear-filters");
    this.chips = document.getElementById("filter-chips");
    this.empty = document.getElementById("no-results");
    this.filters = document.getElementById("filters");
    this.target = app.getAttribute("data-target") || "";
    this.pageSize = Number(app.getAttribute("data-page-size")) || 0;
    this.sortKeys = {};
    (app.getAttribute("data-sort-keys") || "").split(/\s+/).filter(Boolean).forEach(function (spec) {
      var parts = spec.split(":");
      this.sortKeys[parts[0]] = { numeric: parts[1] === "n" };
    }, this);
    this.columns = Array.prototype.map.call(this.table.tHead.rows[0].cells, function (th) {
      return { key: th.getAttribute("data-key"), numeric: th.classList.contains("num"), th: th };
    });
    this.facets = Array.prototype.map.call(app.querySelectorAll("fieldset[data-facet]"), readFacet);
    this.labels = {};
    this.facets.forEach(function (facet) { this.labels[facet.name] = facet.labels; }, this);
    this.records = [];
    this.hitCache = {};  // typed word -> Uint8Array over records (see termHits)
    this.hitCount = 0;
    this.ordered = null;
    this.shown = [];
    this.lastChange = "";
    this.state = { q: "", selected: {}, all: {}, sort: "", descending: false, limit: this.pageSize };
  }

  /* A facet fieldset: its checkboxes and labels by folded value (case variants are one). */
  function readFacet(fieldset) {
    var facet = {
      name: fieldset.getAttribute("data-facet"), fieldset: fieldset, boxes: {}, labels: {},
      hide: fieldset.getAttribute("data-hide") || "",
      title: fieldset.querySelector("legend").textContent, expanded: false, toggle: null
    };
    Array.prototype.forEach.call(fieldset.querySelectorAll("input[type=checkbox]"), function (box) {
      var label = box.closest("label");
      var key = box.value.toLowerCase();
      facet.boxes[key] = { input: box, count: label.querySelector(".facet-count"), label: label, item: label.closest("li") };
      facet.labels[key] = label.querySelector(".facet-label").textContent;
    });
    return facet;
  }

  Inventory.prototype.start = function () {
    var self = this;
    this.makeSortButtons();
    this.makeFacetToggles();
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
      self.app.setAttribute("data-failed", "true");
      self.counter.textContent = "Search needs the site served by a web server: this browser " +
        "does not load the image list (" + self.app.getAttribute("data-index") + ") from a " +
        "file. The listing pages below show every image.";
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

  /* A server-rendered row carries every search-index field as a data- attribute. */
  Inventory.prototype.recordFromRow = function (tr, index) {
    var values = {};
    Array.prototype.forEach.call(tr.attributes, function (attribute) {
      if (attribute.name.lastIndexOf("data-", 0) === 0) { values[attribute.name.slice(5)] = attribute.value; }
    });
    return this.makeRecord(values, index, tr);
  };

  Inventory.prototype.recordsFromIndex = function (data) {
    var fields = data.fields;
    var shared = fields.indexOf("text_words");  // a number into data.texts
    var preview = this.tbody.rows;
    return data.rows.map(function (row, index) {
      var values = {};
      for (var i = 0; i < fields.length; i++) {
        var value = row[i];
        values[fields[i]] = value === null || value === undefined ? "" : String(value);
      }
      values.text_words = data.texts[row[shared]] || "";
      var tr = preview[index] && preview[index].getAttribute("data-name") === values.name ? preview[index] : null;
      return this.makeRecord(values, index, tr);
    }, this);
  };

  Inventory.prototype.makeRecord = function (values, index, tr) {
    var folded = {};
    for (var k = 0; k < this.facets.length; k++) {
      var name = this.facets[k].name;
      folded[name] = (values[name] || "").toLowerCase();
    }
    return {
      index: index, values: values, folded: folded, tr: tr,
      text: " " + tokens(values.name).join(" ") + " " + (values.words || "") + " " + (values.text_words || "") + " ",
      md5: (values.md5 || "").toLowerCase()
    };
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
      /* `<facet>=all` (lifecycle=all): show the value the facet hides, choose nothing. */
      if (facet.hide && values.indexOf("all") !== -1) { state.all[facet.name] = true; }
      values = values.filter(function (value) { return !state.all[facet.name] || value !== "all"; });
      if (values.length) {
        var chosen = new Map();
        values.forEach(function (value) { chosen.set(value.toLowerCase(), value); });
        state.selected[facet.name] = chosen;
      }
    });
    var sort = params.get("sort") || "";
    state.descending = sort.charAt(0) === "-";
    sort = state.descending ? sort.slice(1) : sort;
    state.sort = this.sortKeys[sort] ? sort : "";
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
    if (state.sort) { params.append("sort", this.sortValue()); }
    var text = params.toString();
    return text ? "?" + text : "";
  };

  Inventory.prototype.sortValue = function () {
    return this.state.sort ? (this.state.descending ? "-" : "") + this.state.sort : "";
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
      Object.keys(facet.boxes).forEach(function (key) {
        facet.boxes[key].input.checked = Boolean(selected && selected.has(key));
      });
      this.showFacetValues(facet);
    }, this);
    this.columns.forEach(function (column) {
      if (column.key === state.sort) {
        column.th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
      } else {
        column.th.removeAttribute("aria-sort");
      }
    });
    this.syncSortMenu();
  };

  /* The menu shows the current order; an order the menu lacks (from a URL) gets an entry. */
  Inventory.prototype.syncSortMenu = function () {
    var value = this.sortValue();
    var menu = this.sortMenu;
    var known = Array.prototype.some.call(menu.options, function (option) { return option.value === value; });
    if (!known) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = "By " + value.replace(/^-/, "").replace(/_/g, " ") + (this.state.descending ? ", descending" : "");
      menu.appendChild(option);
    }
    menu.value = value;
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
      Object.keys(facet.boxes).forEach(function (key) {
        var input = facet.boxes[key].input;
        input.addEventListener("change", function () {
          self.toggle(facet.name, input.value, input.checked);
        });
      });
    });
    this.sortMenu.addEventListener("change", function () {
      var value = self.sortMenu.value;
      self.state.descending = value.charAt(0) === "-";
      self.state.sort = value.replace(/^-/, "");
      self.ordered = null;
      self.syncControls();
      self.changed("sort");
    });
    this.more.addEventListener("click", function () {
      self.state.limit += self.pageSize;
      self.render(false);
    });
    [this.clear, document.getElementById("reset")].forEach(function (button) {
      button.addEventListener("click", function () { self.reset(); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-export]"), function (button) {
      button.addEventListener("click", function () { self.download(button.getAttribute("data-export")); });
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
    var selected = this.state.selected[name] || new Map();
    if (on) { selected.set(value.toLowerCase(), value); } else { selected.delete(value.toLowerCase()); }
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

  /* "Show N more": a facet's values beyond the first few, never a silent scroll box. */
  Inventory.prototype.makeFacetToggles = function () {
    this.facets.forEach(function (facet) {
      var extra = facet.fieldset.querySelectorAll("li.extra input").length;
      if (!extra) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "facet-more";
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", function () {
        facet.expanded = !facet.expanded;
        this.showFacetValues(facet);
      }.bind(this));
      facet.fieldset.appendChild(button);
      facet.toggle = { button: button, extra: extra };
      this.showFacetValues(facet);
    }, this);
  };

  /* Collapsed, a facet hides its extra values except the chosen ones. */
  Inventory.prototype.showFacetValues = function (facet) {
    if (!facet.toggle) { return; }
    Array.prototype.forEach.call(facet.fieldset.querySelectorAll("li.extra"), function (item) {
      var box = item.querySelector("input");
      item.hidden = !facet.expanded && !(box && box.checked);
    });
    var button = facet.toggle.button;
    button.setAttribute("aria-expanded", String(facet.expanded));
    button.textContent = facet.expanded ? "Show fewer" : "Show " + facet.toggle.extra + " more";
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
    var hits = searchTerms(this.state.q).map(this.termHits, this);
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
      if (!matchesAll(hits, record.index)) { continue; }
      var failed = null;
      var failures = 0;
      for (var j = 0; j < active.length && failures < 2; j++) {
        if (!this.state.selected[active[j].name].has(record.folded[active[j].name])) {
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

  /* Which records one typed word matches, cached by word: a keystroke changes one word, so
   * only that word is matched against every record again (deleting reuses earlier words). */
  Inventory.prototype.termHits = function (term) {
    var hits = this.hitCache[term.run];
    if (!hits) {
      var records = this.records;
      hits = new Uint8Array(records.length);
      for (var i = 0; i < records.length; i++) {
        if (termMatches(records[i], term)) { hits[i] = 1; }
      }
      if (++this.hitCount > 64) { this.hitCache = {}; this.hitCount = 0; }
      this.hitCache[term.run] = hits;
    }
    return hits;
  };

  function matchesAll(hits, index) {
    for (var i = 0; i < hits.length; i++) {
      if (!hits[i][index]) { return false; }
    }
    return true;
  }

  Inventory.prototype.countRecord = function (record, counts, only) {
    for (var k = 0; k < this.facets.length; k++) {
      var name = this.facets[k].name;
      if (only === null || only === name) {
        var value = record.folded[name];
        counts[name][value] = (counts[name][value] || 0) + 1;
      }
    }
  };

  Inventory.prototype.updateFacetCounts = function (counts) {
    this.facets.forEach(function (facet) {
      Object.keys(facet.boxes).forEach(function (key) {
        var box = facet.boxes[key];
        var count = String(counts[facet.name][key] || 0);
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
    var sign = this.state.descending ? -1 : 1;
    var sortValue = this.recordSortValue.bind(this, key, this.sortKeys[key].numeric);
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

  Inventory.prototype.recordSortValue = function (key, numeric, record) {
    var value = record.values[SORT_FIELD[key] || key];
    if (value === "" || value === undefined) { return null; }
    if (numeric) { return Number(value); }
    var labels = this.labels[key];
    return key === "status" || key === "vm" ? labels[value.toLowerCase()] || value : value;
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
    if (reset) { this.showActiveFilters(); }
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

  /* Chips above the table, one per search and chosen value, each removing itself; the
   * filters button (a phone's only way in) counts them; embed.html links its full view. */
  Inventory.prototype.showActiveFilters = function () {
    var self = this;
    var chips = [];
    if (this.state.q.trim()) {
      chips.push({ text: "Search: " + this.state.q.trim(), remove: function () { self.input.value = ""; self.state.q = ""; } });
    }
    var active = 0;
    this.facets.forEach(function (facet) {
      var selected = this.state.selected[facet.name];
      if (!selected) { return; }
      selected.forEach(function (value, key) {
        active++;
        var label = facet.labels[key] || value;
        chips.push({ text: facet.title + ": " + label, remove: function () {
          selected.delete(key);
          if (!selected.size) { delete self.state.selected[facet.name]; }
          self.syncControls();
        } });
      });
    }, this);
    this.chips.textContent = "";
    chips.forEach(function (chip) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chip removable";
      button.textContent = chip.text;
      button.setAttribute("aria-label", "Remove " + chip.text);
      button.addEventListener("click", function () {
        chip.remove();
        self.changed("facet");
        self.input.focus();
      });
      item.appendChild(button);
      this.chips.appendChild(item);
    }, this);
    this.chips.parentNode.hidden = chips.length === 0;
    var counter = document.getElementById("filters-active");
    if (counter) { counter.textContent = active ? "(" + active + " active)" : ""; }
    var full = document.getElementById("full-view");
    if (full) { full.setAttribute("href", "index.html" + this.query()); }
  };

  function number(value) {
    return value.toLocaleString("en");
  }

  /* A table row for a record from search-index.json, the same cells as the server's rows. */
  Inventory.prototype.buildRow = function (record) {
    var tr = document.createElement("tr");
    this.columns.forEach(function (column) {
      tr.appendChild(this.buildCell(column, record.values));
    }, this);
    tr.setAttribute("data-name", record.values.name);
    return tr;
  };

  Inventory.prototype.buildCell = function (column, shown) {
    var key = column.key;
    if (key === "name") {
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "name";
      var link = document.createElement("a");
      link.setAttribute("href", shown.url + "index.html");
      if (this.target) { link.setAttribute("target", this.target); }
      appendBreakable(link, shown.name);
      th.appendChild(link);
      if (shown.lifecycle && shown.lifecycle !== "current") {
        var flag = document.createElement("span");
        flag.className = "badge lifecycle-" + shown.lifecycle;
        flag.textContent = (this.labels.lifecycle || {})[shown.lifecycle.toLowerCase()] || shown.lifecycle;
        th.appendChild(document.createTextNode(" "));
        th.appendChild(flag);
      }
      return th;
    }
    var td = document.createElement("td");
    if (column.numeric) { td.className = "num"; }
    if (key === "status") {
      td.className = "status";
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.classList.add("status-" + shown.status);
      badge.textContent = this.labels.status[shown.status] || shown.status;
      var when = document.createElement("span");
      when.className = "when";
      appendDate(when, shown.verified_at, "never read");
      td.append(badge, " ", when);
    } else if (key === "last_changed") {
      td.className = "time dates";
      appendDate(td, shown.first_seen, "never");
      var sep = document.createElement("span");
      sep.className = "sep";
      sep.textContent = "·";
      td.append(" ", sep, " ");
      appendDate(td, shown.last_changed, "never");
    } else {
      td.textContent = cellText(key, shown, this.labels);
    }
    return td;
  };

  function appendDate(parent, iso, missing) {
    var element = document.createElement(iso ? "time" : "span");
    if (iso) { element.setAttribute("datetime", iso); }
    element.textContent = iso ? iso.slice(0, 10) : missing;
    parent.appendChild(element);
  }

  /* The name as text, with a line-break opportunity after each "_" (as the server renders it). */
  function appendBreakable(parent, name) {
    name.split("_").forEach(function (part, i, parts) {
      parent.appendChild(document.createTextNode(i < parts.length - 1 ? part + "_" : part));
      if (i < parts.length - 1) { parent.appendChild(document.createElement("wbr")); }
    });
  }

  function cellText(key, shown, labels) {
    if (key === "vm") { return labels.vm[shown.vm.toLowerCase()] || shown.vm; }
    if (key === "size_bytes") { return shown.size; }
    return shown[key] || "—";
  }

  /* ---------- export: the filtered rows, made here from the loaded data ---------- */

  Inventory.prototype.download = function (kind) {
    var rows = this.matches.map(function (record) {
      var row = {};
      EXPORT_FIELDS.forEach(function (name) {
        var value = record.values[name] || "";
        row[name] = NUMERIC_EXPORT[name] ? (value === "" ? null : Number(value)) : value;
      });
      return row;
    });
    var text = kind === "csv" ? toCsv(rows) : JSON.stringify(rows, null, 1) + "\n";
    var type = kind === "csv" ? "text/csv" : "application/json";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: type + ";charset=utf-8" }));
    link.download = "star-vm-images." + kind;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
  };

  /* RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading quote. */
  function toCsv(rows) {
    var lines = [EXPORT_FIELDS.join(",")];
    rows.forEach(function (row) {
      lines.push(EXPORT_FIELDS.map(function (name) {
        var value = row[name] === null ? "" : String(row[name]);
        if (/^[=+\-@\t\r]/.test(value)) { value = "'" + value; }
        return /[",\r\n']/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
      }).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
