// searchkit page: plain JavaScript over the JSON API (docs/api.md). All text is inserted
// with textContent, never as HTML, so passages cannot inject markup.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 10;
const MODE_NAMES = { hybrid: "混合", keyword: "关键词", vector: "语义" };
let lastSearch = null; // {q, mode, filters, offset}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// text with [start, end) spans marked
function highlighted(text, spans) {
  const out = [];
  let pos = 0;
  for (const [s, e] of spans || []) {
    out.push(text.slice(pos, s), el("mark", {}, text.slice(s, e)));
    pos = e;
  }
  out.push(text.slice(pos));
  return out;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

function fileLink(source) {
  return el("a", { href: `/api/file?source=${encodeURIComponent(source)}`, target: "_blank", rel: "noopener",
    title: "打开原文件" }, source);
}

// -- results -------------------------------------------------------------------------------

// "林小明（市委副书记、市长） · 2022-07-02" from a hit's speech object, as the CLI prints it
function whoAndWhen(speech) {
  if (!speech) return "";
  let who = speech.speaker || "";
  if (who && speech.role) who += `（${speech.role}）`;
  return [who, speech.date || ""].filter(Boolean).join(" · ");
}

function headingPath(heading) {
  return heading && heading.length ? heading.join(" › ") : "（开头）";
}

function resultItem(r, query) {
  const evidence = [];
  if (r.keyword_rank) evidence.push(`关键词 #${r.keyword_rank}`);
  if (r.vector_rank) evidence.push(`语义 #${r.vector_rank}`);
  const who = whoAndWhen(r.speech);
  const snippet = r.snippet || { text: r.text, spans: [] };
  return el("li", { class: "result" },
    el("span", { class: "rank" }, `${r.rank}.`),
    el("div", {},
      el("h3", {}, el("button", { type: "button", onclick: () => openContext(r.chunk_id, query) }, r.title)),
      who ? el("div", { class: "meta" }, who) : null,
      el("div", { class: "heading" }, headingPath(r.heading)),
      el("div", { class: "meta" }, (r.sources && r.sources.length ? r.sources : [r.source]).map(fileLink),
        ` · 得分 ${r.score.toFixed(3)}${evidence.length ? " · " + evidence.join("，") : ""}`),
      el("p", { class: "snippet" }, snippet.cut_left ? "…" : "", highlighted(snippet.text, snippet.spans),
        snippet.cut_right ? "…" : "")));
}

function currentFilters() {
  const params = new URLSearchParams();
  for (const input of $("filters").querySelectorAll("select, input")) {
    if (input.multiple) for (const o of input.selectedOptions) params.append(input.name, o.value);
    else if (input.value) params.append(input.name, input.value);
  }
  return params;
}

async function runSearch(offset) {
  const params = new URLSearchParams({ q: lastSearch.q, mode: lastSearch.mode, k: PAGE, offset });
  for (const [key, value] of lastSearch.filters) params.append(key, value);
  $("search-info").textContent = "正在检索…";
  $("more").hidden = true;
  try {
    const data = await api(`/api/search?${params}`);
    if (offset === 0) $("results").replaceChildren();
    for (const r of data.results) $("results").append(resultItem(r, lastSearch.q));
    const shown = $("results").children.length;
    $("search-info").textContent = shown
      ? `${shown} 条结果 · ${MODE_NAMES[data.mode]} · ${Math.round(data.took_ms)} ms` + (data.notices.length ? " · " + data.notices.join("；") : "")
      : `没有找到与“${lastSearch.q}”相关的段落（${MODE_NAMES[data.mode]}）`;
    $("more").hidden = data.results.length < PAGE;
    lastSearch.offset = offset;
  } catch (error) {
    $("search-info").replaceChildren(el("span", { class: "error" }, error.message));
  }
}

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  lastSearch = { q, mode, filters: [...currentFilters()], offset: 0 };
  history.replaceState(null, "", `?${new URLSearchParams({ q, mode })}`);
  runSearch(0);
});
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.addEventListener("change", () => { if ($("q").value.trim()) $("search-form").requestSubmit(); });
}
$("more").addEventListener("click", () => runSearch(lastSearch.offset + PAGE));

// -- filters (only when the index holds values to filter on) ---------------------------------

const FILTER_LABELS = { speaker: "讲话人", level: "层级", role: "职务", place: "地点", meeting: "会议", source: "文件", tag: "标签" };

async function loadFacets() {
  if (document.body.dataset.filtersAvailable !== "true") return;
  const data = await api("/api/facets");
  const box = $("filters");
  box.replaceChildren();
  for (const [name, values] of Object.entries(data.facets)) {
    if (!values.length) continue;
    if (name === "year") {
      box.append(el("label", {}, "年份", el("input", { name: "year", placeholder: "2019..2022", size: 10 })));
      continue;
    }
    box.append(el("label", {}, FILTER_LABELS[name] || name,
      el("select", { name }, el("option", { value: "" }, "全部"),
        values.map((v) => el("option", { value: v.value }, `${v.value}（${v.count}）`)))));
  }
  box.hidden = !box.children.length;
  for (const input of box.querySelectorAll("select, input")) {
    input.addEventListener("change", () => { if ($("q").value.trim()) $("search-form").requestSubmit(); });
  }
}

// -- passage in context --------------------------------------------------------------------

function paragraphs(text, spans) {
  // one <p> per line of the passage; spans are offsets into the whole text
  const out = [];
  let start = 0;
  for (const line of text.split("\n")) {
    const end = start + line.length;
    const inside = (spans || []).filter(([s, e]) => s < end && e > start)
      .map(([s, e]) => [Math.max(s, start) - start, Math.min(e, end) - start]);
    if (line.trim()) out.push(el("p", {}, highlighted(line, inside)));
    start = end + 1;
  }
  return out;
}

function passageSection(p, cls) {
  return el("section", { class: cls, id: `p-${p.position}` }, paragraphs(p.text, p.highlights));
}

async function openContext(chunkId, query) {
  const panel = $("context");
  panel.hidden = false;
  $("context-passages").replaceChildren(el("p", { class: "muted" }, "正在读取…"));
  try {
    const data = await api(`/api/passage/${encodeURIComponent(chunkId)}?${new URLSearchParams({ q: query || "", neighbours: 2 })}`);
    $("context-title").textContent = data.title;
    const who = whoAndWhen(data.speech);
    $("context-who").textContent = who;
    $("context-who").hidden = !who;
    $("context-heading").textContent = headingPath(data.heading);
    $("context-source").replaceChildren(`第 ${data.index_in_speech} / ${data.passages_in_speech} 段 · 原文：`,
      ...data.sources.map(fileLink));
    $("context-outline").replaceChildren(...(data.outline.length ? data.outline.map((h) =>
      el("button", { type: "button", class: h.current ? "current" : "", style: `padding-left:${(h.level - 1) * 1}em`,
        onclick: () => openContext(h.chunk_id, query) }, h.title)) : [el("span", { class: "muted" }, "本篇无小标题")]));
    $("context-passages").replaceChildren(
      ...data.before.map((p) => passageSection(p, "neighbour")),
      passageSection(data.passage, "current"),
      ...data.after.map((p) => passageSection(p, "neighbour")));
    $("context-passages").querySelector(".current").scrollIntoView({ block: "center" });
  } catch (error) {
    $("context-passages").replaceChildren(el("p", { class: "error" }, error.message));
  }
}

$("context-close").addEventListener("click", () => { $("context").hidden = true; });
$("context").addEventListener("click", (event) => { if (event.target === $("context")) $("context").hidden = true; });
document.addEventListener("keydown", (event) => { if (event.key === "Escape") $("context").hidden = true; });

// -- find similar / draft review -----------------------------------------------------------

let draftFile = null;

function reviewPair(item, index) {
  return el("div", { class: "pair" },
    el("div", { class: "draft-para" }, el("b", {}, `¶${index + 1}`), item.paragraph),
    el("div", {}, item.results.length
      ? item.results.map((r) => el("div", { class: "match" },
        el("div", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openContext(r.chunk_id, ""); } }, r.title)),
        whoAndWhen(r.speech) ? el("div", { class: "meta" }, whoAndWhen(r.speech)) : null,
        el("div", { class: "heading" }, headingPath(r.heading)),
        el("div", { class: "snippet" }, highlighted(r.snippet.text, r.snippet.spans), r.snippet.cut_right ? "…" : "")))
      : el("span", { class: "muted" }, "没有相似段落")));
}

$("similar-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const k = $("similar-k").value, mode = $("similar-mode").value;
  let options;
  if (draftFile) {
    const form = new FormData();
    form.append("file", draftFile);
    form.append("k", k);
    form.append("mode", mode);
    options = { method: "POST", body: form };
  } else {
    const text = $("draft").value;
    if (!text.trim()) return;
    options = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text, k: Number(k), mode }) };
  }
  $("similar-info").textContent = "正在逐段比对…";
  try {
    const data = await api("/api/similar/paragraphs", options);
    $("review").replaceChildren(...data.map(reviewPair));
    $("similar-info").textContent = `${data.length} 段`;
  } catch (error) {
    $("similar-info").replaceChildren(el("span", { class: "error" }, error.message));
  }
});

function chooseFile(file) {
  draftFile = file || null;
  $("draft-file-name").textContent = draftFile ? `已选：${draftFile.name}（将比对此文件；在上面输入文字则改为比对文字）` : "";
}
$("draft").addEventListener("input", () => { if (draftFile) { chooseFile(null); $("draft-file").value = ""; } });
$("draft-file").addEventListener("change", (e) => chooseFile(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); chooseFile(e.dataTransfer.files[0]); });

// -- tabs ----------------------------------------------------------------------------------

for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[role=tab]")) {
      t.setAttribute("aria-selected", String(t === tab));
      $(t.dataset.panel).hidden = t !== tab;
    }
  });
}

// -- status and update ---------------------------------------------------------------------

function showStatus(s) {
  const changed = $("status-changed");
  if (!s.ready) {
    $("status-text").replaceChildren(el("span", { class: "error" }, s.error));
    changed.hidden = true;
  } else {
    const c = s.counts;
    $("status-text").textContent = `${c.files} 个文件 · ${c.speeches} 篇讲话 · ${c.passages ?? c.chunks} 段 · 建于 ${s.built_at.replace("T", " ").slice(0, 16)}`;
    const ch = s.corpus_changes;
    const n = ch ? ch.added.length + ch.changed.length + ch.removed.length : 0;
    changed.hidden = !n;
    changed.textContent = n ? `语料有变动：新增 ${ch.added.length}、修改 ${ch.changed.length}、删除 ${ch.removed.length}` : "";
  }
  showUpdate(s.update);
}

function showUpdate(u) {
  const running = u && u.state === "running";
  $("update").disabled = running;
  $("update-bar").hidden = !running;
  if (running) {
    const phase = u.phases.length ? u.phases[u.phases.length - 1] : null;
    $("update-bar").max = phase && phase.total ? phase.total : 1;
    $("update-bar").value = phase ? phase.done : 0;
    $("update-text").textContent = phase ? `更新中：${phase.phase} ${phase.done}/${phase.total}` : "更新中：扫描文件…";
  } else if (u && u.state === "done") {
    const r = u.report;
    $("update-text").textContent = r.up_to_date ? "索引已是最新" : `已更新：新增 ${r.added.length}、修改 ${r.changed.length}、删除 ${r.removed.length}（${u.seconds} 秒）`;
  } else if (u && u.state === "failed") {
    $("update-text").replaceChildren(el("span", { class: "error" }, `更新失败：${u.error}`));
  }
}

async function refreshStatus() {
  try { showStatus(await api("/api/status")); } catch (error) { $("status-text").textContent = error.message; }
}

async function followUpdate() {
  for (;;) {
    const u = await api("/api/update/progress");
    showUpdate(u);
    if (u.state !== "running") break;
    await new Promise((r) => setTimeout(r, 400));
  }
  await refreshStatus();
  loadFacets().catch(() => {});
}

$("update").addEventListener("click", async () => {
  try {
    showUpdate(await api("/api/update", { method: "POST" }));
    await followUpdate();
  } catch (error) {
    $("update-text").replaceChildren(el("span", { class: "error" }, error.message));
  }
});

// -- start ---------------------------------------------------------------------------------

refreshStatus().then(() => {
  const u = $("update").disabled;
  if (u) followUpdate();
});
loadFacets().catch(() => {});
const initial = new URLSearchParams(location.search);
if (initial.get("q")) {
  $("q").value = initial.get("q");
  const radio = document.querySelector(`input[name=mode][value=${CSS.escape(initial.get("mode") || "hybrid")}]`);
  if (radio) radio.checked = true;
  $("search-form").requestSubmit();
}
