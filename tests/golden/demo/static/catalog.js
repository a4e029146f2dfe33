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
  var HEX_DIGIT = /[0-9a-f]/;
  var WORD_CHAR = /^[\p{L}\p{N}]$/u;
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

  /* How a typed word is found in a text (text, from -> position or -1). A number matches a
   * whole number, other words the start of a word: in words kept with a space on each side
   * (" sl6 4 x86 ") that is a space before (and after, a number) ... */
  function spacedFinder(word, number) {
    var needle = number ? " " + word + " " : " " + word;
    return function (text, from) { return text.indexOf(needle, from); };
  }

  /* ... and in a name as written, where a run of letters and digits starts (and ends). */
  function nameFinder(word, number) {
    return function (text, from) {
      var at = text.indexOf(word, from);
      while (at !== -1 && !(runEdge(text, at, true) && (!number || runEdge(text, at + word.length, false)))) {
        at = text.indexOf(word, at + 1);
      }
      return at;
    };
  }

  /* 8+ hex digits: the start of an MD5 (a value start: what precedes is not a hex digit). */
  function digestFinder(run) {
    return function (text, from) {
      var at = text.indexOf(run, from);
      while (at > 0 && HEX_DIGIT.test(text.charAt(at - 1))) { at = text.indexOf(run, at + 1); }
      return at;
    };
  }

  /* True when no letter or digit is just before (`before`) or at `at` (surrogate pairs whole). */
  function runEdge(text, at, before) {
    if (before ? at === 0 : at >= text.length) { return true; }
    var unit = text.charCodeAt(before ? at - 1 : at);
    if (unit < 128) {  // ASCII, most names: no regular expression needed
      return !((unit >= 48 && unit <= 57) || (unit >= 97 && unit <= 122) || (unit >= 65 && unit <= 90));
    }
    var low = unit >= 0xDC00 && unit <= 0xDFFF;
    var high = unit >= 0xD800 && unit <= 0xDBFF;
    var start = before ? (low && at >= 2 ? at - 2 : at - 1) : at;
    var end = before ? at : (high ? at + 2 : at + 1);
    return !WORD_CHAR.test(text.slice(start, end));
  }

  window.StarCatalog = { tokens: tokens };

  /* ---------- the data: one column per field ---------- */

  /* A column of search-index.json: a table of values and a number per image, or one string
   * of the values joined by a separator, read in place (no string per image until shown). */
  function Column(spec, count) {
    this.count = count;
    this.values = spec.values || null;
    this.codes = typeof spec.codes === "string" ? decodeNumbers(spec.codes, spec.width, count) : spec.codes || null;
    this.packed = spec.packed;
    this.separator = spec.separator;
    this.starts = null;
    this.lower = null;  // the lower-cased text (or table) that search reads, and its starts
  }

  /* A column made here from one value per image (small catalogs: the table's attributes). */
  Column.coded = function (list) {
    var numbers = new Map();
    var values = [];
    var codes = list.map(function (value) {
      if (!numbers.has(value)) { numbers.set(value, values.length); values.push(value); }
      return numbers.get(value);
    });
    return new Column({ values: values, codes: codes }, list.length);
  };

  Column.prototype.get = function (i) {
    if (this.codes) { return this.values[this.codes[i]]; }
    if (!this.starts) { this.starts = valueStarts(this.packed, this.separator, this.count); }
    return this.packed.slice(this.starts[i], this.starts[i + 1] - 1);
  };

  /* Marks in `hits` each image whose lower-cased value `find` finds something in; with
   * `only`, just among the images it marks (those a shorter word matched). */
  Column.prototype.mark = function (find, hits, only) {
    var i;
    this.prepare();
    if (this.codes) {
      var found = only ? new Int8Array(this.lower.length).fill(-1) : this.findValues(find);
      if (found.indexOf(1) === -1 && found.indexOf(-1) === -1) { return; }  // no value has it
      for (i = 0; i < this.count; i++) {
        if (only && !only[i]) { continue; }
        var code = this.codes[i];
        if (found[code] === -1) { found[code] = find(this.lower[code], 0) === -1 ? 0 : 1; }
        if (found[code]) { hits[i] = 1; }
      }
      return;
    }
    var starts = this.lower.starts;
    if (only) {
      for (i = 0; i < this.count; i++) {
        if (only[i] && find(this.lower.text.slice(starts[i], starts[i + 1] - 1), 0) !== -1) { hits[i] = 1; }
      }
      return;
    }
    var at = find(this.lower.text, 0);
    while (at !== -1) {
      var image = valueAt(starts, at);
      hits[image] = 1;
      at = find(this.lower.text, starts[image + 1]);  // the next image's value
    }
  };

  /* A coded column's numbers: `width` base-91 digits each, "#" to "~" without the backslash
   * (DIGITS in generator/site/search_index.py). */
  function decodeNumbers(text, width, count) {
    var numbers = new Int32Array(count);
    for (var i = 0, at = 0; i < count; i++) {
      var value = 0;
      for (var k = 0; k < width; k++, at++) {
        var unit = text.charCodeAt(at);
        value = value * 91 + unit - (unit > 92 ? 36 : 35);
      }
      numbers[i] = value;
    }
    return numbers;
  }

  /* What search reads, made once: the lower-cased values (a packed column's text and where
   * each value starts); many values (the descriptions' words) also joined into one string,
   * searched at once, where a call per value costs more. */
  Column.prototype.prepare = function () {
    if (this.lower) { return; }
    if (!this.codes) {
      var text = this.packed.toLowerCase();
      this.lower = { text: text, starts: valueStarts(text, this.separator, this.count) };
      return;
    }
    var values = this.lower = this.values.map(function (value) { return value.toLowerCase(); });
    this.joined = false;
    if (values.length >= 1000 && !values.some(function (value) { return value.indexOf("\n") !== -1; })) {
      var whole = values.join("\n");
      this.joined = { text: whole, starts: valueStarts(whole, "\n", values.length) };
    }
  };

  /* For each value of a coded column, 1 when `find` finds something in it. */
  Column.prototype.findValues = function (find) {
    var values = this.lower;
    var found = new Int8Array(values.length);
    if (!this.joined) {
      for (var j = 0; j < values.length; j++) { found[j] = find(values[j], 0) === -1 ? 0 : 1; }
      return found;
    }
    var starts = this.joined.starts;
    var at = find(this.joined.text, 0);  // one search over all values
    while (at !== -1) {
      var value = valueAt(starts, at);
      found[value] = 1;
      at = find(this.joined.text, starts[value + 1]);
    }
    return found;
  };

  /* Where each of `count` joined values starts, and one more: the end plus one. */
  function valueStarts(text, separator, count) {
    var starts = new Int32Array(count + 1);
    var at = 0;
    for (var i = 0; i < count; i++) {
      starts[i] = at;
      var next = text.indexOf(separator, at);
      at = next === -1 ? text.length + 1 : next + 1;
    }
    starts[count] = text.length + 1;
    return starts;
  }

  function valueAt(starts, position) {
    var low = 0;
    var high = starts.length - 2;
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (starts[middle] <= position) { low = middle; } else { high = middle - 1; }
    }
    return low;
  }

  /* The images' fields by column, and what search reads: the name as written, the words its
   * facet values bring, other words, and (once search-text.json is in) the descriptions'. */
  function Data(count, columns, words) {
    this.count = count;
    this.columns = columns;
    this.words = words;  // [Column of " word word " texts]
    this.texts = null;
    this.found = new Map();  // typed word ("#" before a number) -> its wordHits
  }

  /* search-index.json (see generator/site/search_index.py). */
  Data.fromIndex = function (index) {
    var count = index.count;
    var columns = {};
    Object.keys(index.columns).forEach(function (name) { columns[name] = new Column(index.columns[name], count); });
    var words = [new Column(index.extra, count)];
    Object.keys(index.value_words).forEach(function (name) {
      words.push(new Column({ values: index.value_words[name], codes: columns[name].codes }, count));
    });
    return new Data(count, columns, words);
  };

  /* A server-rendered row carries every field as a data- attribute. */
  Data.fromRows = function (rows) {
    var lists = {};
    Array.prototype.forEach.call(rows, function (tr, i) {
      Array.prototype.forEach.call(tr.attributes, function (attribute) {
        if (attribute.name.lastIndexOf("data-", 0) !== 0) { return; }
        var name = attribute.name.slice(5);
        (lists[name] = lists[name] || new Array(rows.length).fill(""))[i] = attribute.value;
      });
    });
    var spaced = function (name) { return Column.coded((lists[name] || []).map(function (w) { return " " + w + " "; })); };
    var columns = {};
    Object.keys(lists).forEach(function (name) { columns[name] = Column.coded(lists[name]); });
    var data = new Data(rows.length, columns, [spaced("words")]);
    data.texts = spaced("text_words");
    return data;
  };

  /* search-text.json: the distinct description words and each image's number into them, and
   * the columns read later (the MD5s). */
  Data.prototype.addTexts = function (text) {
    this.found = new Map();
    this.texts = new Column(text.texts, this.count);
    Object.keys(text.columns).forEach(function (name) { this.columns[name] = new Column(text.columns[name], this.count); }, this);
  };

  Data.prototype.prepare = function () {
    if (this.columns.name) { this.columns.name.prepare(); }
    this.words.forEach(function (column) { column.prepare(); });
  };

  Data.prototype.column = function (name) {
    return this.columns[name] || null;
  };

  /* One field of image `i` ("" when unknown); an empty `url` is the one catalog.js derives. */
  Data.prototype.value = function (name, i) {
    var column = this.columns[name];
    var value = column ? column.get(i) : "";
    if (name === "url" && !value) {
      var file = this.value("name", i);
      var dot = file.lastIndexOf(".");
      value = "images/" + this.value("vm", i) + "/" + (dot === -1 ? file : file.slice(0, dot)) + "/";
    }
    return value;
  };

  Data.prototype.row = function (i) {
    var values = {};
    Object.keys(this.columns).forEach(function (name) { values[name] = this.value(name, i); }, this);
    values.url = this.value("url", i);
    return values;
  };

  /* Images a typed word matches (see the finders): in the name, the words, the descriptions.
   * Kept by word: a word that starts another is matched only among the shorter one's images
   * (what `sl5` matches, `sl` does too), so typing a word narrows instead of starting over. */
  Data.prototype.wordHits = function (word, number, hits) {
    var key = (number ? "#" : "") + word;
    var known = this.found.get(key);
    if (!known) {
      known = new Uint8Array(this.count);
      var only = number ? null : this.found.get(word.slice(0, -1)) || null;
      var spaced = spacedFinder(word, number);
      if (this.columns.name) { this.columns.name.mark(nameFinder(word, number), known, only); }
      this.words.forEach(function (column) { column.mark(spaced, known, only); });
      if (this.texts) { this.texts.mark(spaced, known, only); }
      if (this.found.size >= 64) { this.found.clear(); }
      this.found.set(key, known);
    }
    for (var i = 0; i < known.length; i++) { hits[i] |= known[i]; }
  };

  /* Which images one typed word matches: the word, all its parts (`64bit`), an MD5's start. */
  Data.prototype.termHits = function (term) {
    var hits = new Uint8Array(this.count);
    if (term.hex && this.columns.md5) { this.columns.md5.mark(digestFinder(term.run), hits); }
    this.wordHits(term.run, term.number, hits);
    if (!term.parts) { return hits; }
    var all = null;
    term.parts.forEach(function (part) {
      var found = new Uint8Array(this.count);
      this.wordHits(part, NUMBER.test(part), found);
      if (all) { for (var i = 0; i < all.length; i++) { all[i] &= found[i]; } } else { all = found; }
    }, this);
    for (var i = 0; i < hits.length; i++) { hits[i] |= all[i]; }
    return hits;
  };


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
    this.data = null;  // a Data: every image's fields by column, numbered in catalog order
    this.count = 0;
    this.built = [];  // image number -> its table row, once shown
    this.hitCache = {};  // typed word -> Uint8Array over images (see termHits)
    this.hitCount = 0;
    this.ordered = null;
    this.shown = [];
    this.textPending = false;  // search-text.json (the descriptions' words) not read yet
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
    this.load().then(function (data) {
      self.useData(data);
      self.readUrl(true);
      if (self.state.q && !new URLSearchParams(window.location.search).has("q")) {
        window.history.replaceState(null, "", window.location.pathname + self.query() + window.location.hash);
      }
      self.listen();
      self.apply();
      self.app.setAttribute("data-ready", "true");
      mark("catalog-ready");
      self.loadTexts();
      setTimeout(function () { self.data.prepare(); }, 0);  // what search reads, before typing
    }, function () {
      self.app.setAttribute("data-failed", "true");
      self.counter.textContent = "Search needs the site served by a web server: this browser " +
        "does not load the image list (" + self.app.getAttribute("data-index") + ") from a " +
        "file. The listing pages below show every image.";
    });
  };

  function mark(name) {
    if (window.performance && performance.mark) { performance.mark(name); }
  }

  function fetchOk(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response;
    });
  }

  /* The data comes from the table itself (small catalogs) or from search-index.json; once
   * that answers, search-text.json downloads meanwhile and is read after the first rows. */
  Inventory.prototype.load = function () {
    var url = this.app.getAttribute("data-index");
    if (!url) {
      return Promise.resolve(Data.fromRows(this.tbody.rows));
    }
    var self = this;
    var texts = this.app.getAttribute("data-text");
    return fetchOk(url).then(function (response) {
      if (texts) {
        self.textPending = true;
        self.texts = fetchOk(texts);
        self.texts.catch(function () { return null; });  // reported when read (loadTexts)
      }
      return response.json();
    }).then(function (index) {
      mark("catalog-index");
      return Data.fromIndex(index);
    });
  };

  Inventory.prototype.useData = function (data) {
    this.data = data;
    this.count = data.count;
    this.facets.forEach(function (facet) {
      facet.column = data.column(facet.name) || Column.coded(new Array(data.count).fill(""));
      facet.folded = facet.column.values.map(function (value) { return value.toLowerCase(); });
    });
    var preview = this.tbody.rows;
    var shown = [];
    for (var i = 0; i < preview.length && i < data.count; i++) {
      if (preview[i].getAttribute("data-name") === data.value("name", i)) {
        this.built[i] = preview[i];
        shown.push(i);
      }
    }
    /* The rows the page came with stay as they are when the first result is the same rows. */
    this.shown = shown.length === preview.length ? shown : [];
  };

  /* The descriptions' words: searched from now on; a search typed meanwhile is run again. */
  Inventory.prototype.loadTexts = function () {
    if (!this.texts) {
      this.app.setAttribute("data-text-ready", "true");
      return;
    }
    var self = this;
    this.texts = this.texts.then(function (response) { return response.json(); }).then(function (text) {
      self.data.addTexts(text);
      self.data.texts.prepare();  // now, not at the first keystroke
      self.textPending = false;
      self.hitCache = {};
      self.hitCount = 0;
      if (self.state.q.trim()) { self.apply(); } else { self.describe(self.matches.length, self.shown.length); }
      self.app.setAttribute("data-text-ready", "true");
      mark("catalog-text");
    }, function () {
      self.textPending = false;
      self.app.setAttribute("data-text-failed", "true");
    });  // from now on: done when the texts are read (see download)
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

  /* One pass: the matching images, and per facet value the count it would have if chosen
   * (an image that fails only facet F still counts towards F's values). */
  Inventory.prototype.filter = function () {
    var hits = searchTerms(this.state.q).map(this.termHits, this);
    var state = this.state;
    var active = [];
    var hiding = [];  // a facet's hidden value (end of life) is left out until chosen or `<facet>=all`
    this.facets.forEach(function (facet, n) {
      var selected = state.selected[facet.name];
      if (selected) {
        active.push({ n: n, codes: facet.column.codes, keep: facet.folded.map(function (v) { return selected.has(v); }) });
      } else if (facet.hide && !state.all[facet.name]) {
        hiding.push({ n: n, codes: facet.column.codes, code: facet.column.values.indexOf(facet.hide) });
      }
    });
    var codes = this.facets.map(function (facet) { return facet.column.codes; });
    var counts = this.facets.map(function (facet) { return new Int32Array(facet.column.values.length); });
    this.hidden = 0;
    var matches = [];
    var order = this.sorted();
    for (var k = 0; k < order.length; k++) {
      var i = order[k];
      if (!matchesAll(hits, i)) { continue; }
      var failed = -1;
      var failures = 0;
      for (var j = 0; j < active.length && failures < 2; j++) {
        if (!active[j].keep[active[j].codes[i]]) { failed = active[j].n; failures++; }
      }
      for (var h = 0; h < hiding.length && failures < 2; h++) {
        if (hiding[h].codes[i] === hiding[h].code) {
          if (failures === 0) { this.hidden++; }
          failed = hiding[h].n;
          failures++;
        }
      }
      if (failures === 0) { matches.push(i); }
      if (failures < 2) {
        for (var f = 0; f < codes.length; f++) {
          if (failed === -1 || failed === f) { counts[f][codes[f][i]]++; }
        }
      }
    }
    return { matches: matches, counts: counts };
  };

  /* Which images one typed word matches, cached by word: a keystroke changes one word, so
   * only that word is matched against every image again (deleting reuses earlier words). */
  Inventory.prototype.termHits = function (term) {
    var hits = this.hitCache[term.run];
    if (!hits) {
      hits = this.data.termHits(term);
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

  /* Counts by value number, summed per folded value (case variants are one). */
  Inventory.prototype.updateFacetCounts = function (counts) {
    this.facets.forEach(function (facet, n) {
      var byKey = {};
      facet.folded.forEach(function (key, code) { byKey[key] = (byKey[key] || 0) + counts[n][code]; });
      Object.keys(facet.boxes).forEach(function (key) {
        var box = facet.boxes[key];
        var count = String(byKey[key] || 0);
        if (box.count.textContent !== count) { box.count.textContent = count; }
        box.label.classList.toggle("zero", count === "0" && !box.input.checked);
      });
    });
  };

  /* Image numbers in the chosen order (catalog order when none); cached until it changes. A
   * column of few values is ranked once, so the sort compares numbers. */
  Inventory.prototype.sorted = function () {
    if (this.ordered) { return this.ordered; }
    var order = new Array(this.count);
    for (var i = 0; i < order.length; i++) { order[i] = i; }
    var key = this.state.sort;
    this.ordered = order;
    if (!key) { return order; }
    var sign = this.state.descending ? -1 : 1;
    var keys = this.sortKeyValues(key);
    order.sort(function (a, b) {
      var x = keys[a];
      var y = keys[b];
      var missing = (x === null) - (y === null);
      if (missing) { return missing; }
      var result = x === null ? 0 : compareValues(x, y);
      return result ? sign * result : a - b;
    });
    return order;
  };

  /* Each image's sort value (null when unknown): a rank for a column of few values. */
  Inventory.prototype.sortKeyValues = function (key) {
    var column = this.data.column(SORT_FIELD[key] || key) || Column.coded(new Array(this.count).fill(""));
    var convert = this.sortKeyOf.bind(this, key, this.sortKeys[key].numeric);
    var keys = new Array(this.count);
    if (!column.codes) {
      for (var i = 0; i < keys.length; i++) { keys[i] = convert(column.get(i)); }
      return keys;
    }
    var table = column.values.map(convert);
    var byValue = table.map(function (value, code) { return code; }).filter(function (code) { return table[code] !== null; });
    byValue.sort(function (a, b) { return compareValues(table[a], table[b]); });
    var rank = table.map(function () { return null; });
    byValue.forEach(function (code, n) {
      rank[code] = n && compareValues(table[byValue[n - 1]], table[code]) === 0 ? rank[byValue[n - 1]] : n;
    });
    for (var j = 0; j < keys.length; j++) { keys[j] = rank[column.codes[j]]; }
    return keys;
  };

  Inventory.prototype.sortKeyOf = function (key, numeric, value) {
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
        var image = visible[i];
        fragment.appendChild(this.built[image] || (this.built[image] = this.buildRow(image)));
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
    var total = this.count;
    var filtered = this.isFiltered();
    var text;
    if (!filtered) {
      text = "All " + number(total) + " images";
    } else {
      text = number(matching) + (matching === 1 ? " image matches" : " images match") + " (of " + number(total) + ")";
    }
    if (visible < matching) { text += ", showing the first " + number(visible); }
    if (this.hidden) { text += "; " + number(this.hidden) + " end of life not shown"; }
    if (this.textPending && this.state.q.trim()) { text += "; descriptions and digests still loading"; }
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

  /* A table row for an image of search-index.json, the same cells as the server's rows. */
  Inventory.prototype.buildRow = function (image) {
    var tr = document.createElement("tr");
    var values = this.data.row(image);
    this.columns.forEach(function (column) {
      tr.appendChild(this.buildCell(column, values));
    }, this);
    tr.setAttribute("data-name", values.name);
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
    if (this.textPending) {  // the MD5s come with search-text.json
      this.texts.then(this.download.bind(this, kind));
      return;
    }
    var data = this.data;
    var rows = this.matches.map(function (image) {
      var row = {};
      EXPORT_FIELDS.forEach(function (name) {
        var value = data.value(name, image) || "";
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
