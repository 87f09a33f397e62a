// docatlas site: as-you-type search and a lazily loaded folder tree. Works served (JSON API) and as static
// files (prebuilt search shards, one per two-character prefix; only the shard a query needs is loaded).
"use strict";
(function () {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const root = meta("docatlas-root");
  const mode = meta("docatlas-search");
  const current = meta("docatlas-page");
  const toHtml = (page) => page.replace(/\.md$/, ".html");
  // a result's page may end in a symbol anchor (`#sym-...`); a `#` elsewhere is part of a file name
  const href = (page) => {
    const cut = page.lastIndexOf("#sym-");
    const [path, frag] = cut < 0 ? [page, ""] : [page.slice(0, cut), page.slice(cut)];
    return root + toHtml(path).split("/").map(encodeURIComponent).join("/") + frag;
  };

  // -- search ------------------------------------------------------------------------------------------------
  const input = document.getElementById("q");
  const list = document.getElementById("results");
  const shards = new Map();
  let seq = 0;

  function terms(q) {
    return q.toLowerCase().match(/[a-z0-9]+/g) || [];
  }

  let keys = null;
  async function shard(key) {
    if (!shards.has(key)) {
      shards.set(key, fetch(`${root}_docatlas/search/${key}.json`).then((r) => (r.ok ? r.json() : { files: [], rows: [] })).catch(() => ({ files: [], rows: [] })));
    }
    return shards.get(key);
  }

  // Static ranking (see serve/export.py): one shard per term, the longest key that starts it; entries whose words
  // all the terms start; exact names, then name prefixes, then the rest, each in the index's order. A split
  // shard holds only its first entries, so the box says to type more.
  function keyOf(t) {
    for (let n = Math.min(t.length, 12); n >= 2; n--) if (keys.set.has(t.slice(0, n))) return t.slice(0, n);
    return "";
  }

  async function staticSearch(q, limit) {
    const ts = terms(q);
    if (!ts.some((t) => t.length >= 2)) return { hint: "type two letters or digits" };
    if (!keys) {
      keys = await fetch(`${root}_docatlas/search/keys.json`).then((r) => r.json());
      keys.set = new Set(keys.keys);
      keys.cut = new Set(keys.partial);
    }
    const wanted = [...new Set(ts.map(keyOf).filter((k) => k))];
    const whole = q.trim().toLowerCase();
    const seen = new Map();
    for (const data of await Promise.all(wanted.map(shard))) {
      for (const r of data.rows || []) {
        if (seen.has(r[7])) continue;
        const [path, page] = data.files[r[3]];
        if (!ts.every((t) => r[6].some((w) => w.startsWith(t)) || path.toLowerCase().includes(t))) continue;
        const name = r[1].toLowerCase();
        const tier = name === whole || r[2].toLowerCase() === whole ? 0 : name.startsWith(whole) ? 1 : 2;
        seen.set(r[7], { tier, order: r[7], hit: { kind: r[0], name: r[1], qualname: r[2], path, line: r[4],
                                                   page: r[5] ? `${page}#${r[5]}` : page } });
      }
    }
    const hits = [...seen.values()].sort((a, b) => a.tier - b.tier || a.order - b.order).slice(0, limit).map((x) => x.hit);
    const cut = wanted.some((k) => keys.cut.has(k) && ts.includes(k));
    return cut ? { hits, hint: "many matches: only the first ones were searched, type more" } : { hits };
  }

  async function apiSearch(q, limit) {
    const r = await fetch(`${root}api/search?q=${encodeURIComponent(q)}&limit=${limit}`);
    const data = await r.json();
    return r.ok ? { hits: data } : { hint: data.error || "bad query" };
  }

  function show(res) {
    list.replaceChildren();
    if (res.hint) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = res.hint;
      list.append(li);
    }
    (res.hits || []).forEach((h) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = h.page ? href(h.page) : "#";
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = h.kind;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = h.qualname || h.name;
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = h.line ? `${h.path}:${h.line}` : h.path;
      a.append(kind, name, where);
      li.append(a);
      list.append(li);
    });
    if (!res.hint && !(res.hits || []).length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "no results";
      list.append(li);
    }
    list.hidden = false;
  }

  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value;
    if (!q.trim()) {
      list.hidden = true;
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++seq;
      const res = await (mode === "static" ? staticSearch(q, 20) : apiSearch(q, 20)).catch(() => ({ hint: "search failed" }));
      if (mine === seq) show(res);
    }, 60);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      const a = list.querySelector("a");
      if (a) window.location.href = a.href;
    } else if (e.key === "Escape") {
      list.hidden = true;
    }
  });

  // -- folder tree -------------------------------------------------------------------------------------------
  const tree = document.getElementById("tree");
  const currentDir = current.includes("/") ? current.slice(0, current.lastIndexOf("/")) : "";

  async function load(url, into) {
    const r = await fetch(root + url);
    if (!r.ok) return;
    const entries = await r.json();
    const ul = document.createElement("ul");
    for (const e of entries) {
      const li = document.createElement("li");
      li.className = e.kind;
      const a = document.createElement("a");
      a.textContent = e.kind === "folder" ? e.name + "/" : e.name;
      if (e.page) a.href = href(e.page);
      if (toHtml(e.page) === current) a.className = "current";
      if (e.kind === "folder") {
        const toggle = document.createElement("button");
        toggle.type = "button";
        toggle.textContent = "▸";
        toggle.setAttribute("aria-label", `open ${e.name}`);
        let loaded = false;
        toggle.addEventListener("click", async () => {
          if (!loaded) {
            loaded = true;
            await load(e.children, li);
          }
          li.classList.toggle("open");
          toggle.textContent = li.classList.contains("open") ? "▾" : "▸";
        });
        li.append(toggle, a);
        if (currentDir === e.path || currentDir.startsWith(e.path + "/")) toggle.click();
      } else {
        li.append(a);
      }
      ul.append(li);
    }
    into.append(ul);
  }
  if (tree) load(meta("docatlas-tree"), tree);
})();
