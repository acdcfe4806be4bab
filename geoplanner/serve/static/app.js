// geoplanner serve: the page. Plain ES module over the vendored Leaflet (window.L); no build step, no CDN.
// Every text from data or from the user goes into the page with textContent, never as HTML.

const state = { session: null, token: null, baseline: null, job: null, result: null, excluded: new Set(), admitted: new Set(),
  added: [], found: null, clickMode: false, layers: {}, venues: null, sets: [] };
const fmt = new Intl.NumberFormat("nl-BE", { maximumFractionDigits: 0 });
const fmt1 = new Intl.NumberFormat("nl-BE", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function $(sel) { return document.querySelector(sel); }
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
function value(v, kind) {
  if (v === null || v === undefined) return "–";
  if (kind === "share") return fmt1.format(100 * v) + " %";
  if (kind === "minutes") return fmt1.format(v);
  if (kind === "count") return fmt.format(v);
  return typeof v === "number" ? (Number.isInteger(v) ? fmt.format(v) : fmt1.format(v)) : String(v);
}
function setStatus(text) { $("#status").textContent = text; }

async function api(method, path, body, raw) {
  const headers = {};
  if (state.session) headers["X-Session"] = state.session;
  if (state.token) headers["X-Geoplanner-Token"] = state.token;
  const opts = { method, headers };
  if (raw !== undefined) { opts.body = raw; headers["Content-Type"] = "application/octet-stream"; }
  else if (body !== undefined) { opts.body = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  const resp = await fetch(path, opts);
  const data = resp.headers.get("content-type")?.includes("json") ? await resp.json() : {};
  if (!resp.ok) throw { error: data.error || `fout ${resp.status}`, field: data.field || null };
  return data;
}
function link(path, params) {
  const q = new URLSearchParams({ ...params, session: state.session });
  if (state.token) q.set("token", state.token);
  return `${path}?${q}`;
}
function showError(err, general) {
  document.querySelectorAll(".field-error").forEach((s) => { s.textContent = ""; });
  if (!err) return;
  const msg = err && err.error ? err.error : String(err);
  const spot = err && err.field ? document.querySelector(`.field-error[data-key="${CSS.escape(err.field)}"]`) : null;
  if (spot) spot.textContent = msg; else if (general) general.textContent = msg;
}

// --- map ------------------------------------------------------------------------------------------------------
const map = L.map("map", { preferCanvas: false }).setView([50.845, 4.36], 12);
const timeColour = (m) => (m === null ? "#cccccc" : m <= 5 ? "#1a9850" : m <= 10 ? "#91cf60" : m <= 15 ? "#fee08b"
  : m <= 30 ? "#fc8d59" : "#d73027");
function popup(lines, buttons = []) {
  const box = el("div");
  lines.forEach((l, i) => box.appendChild(el(i === 0 ? "strong" : "div", l)));
  buttons.forEach(([text, fn]) => { const b = el("button", text); b.addEventListener("click", fn); box.appendChild(b); });
  return box;
}

function drawOverview(layers) {
  state.layers.sectors = L.geoJSON(layers.sectors, {
    style: (f) => ({ weight: 0.3, color: "#666", fillOpacity: 0.55, fillColor: timeColour(f.properties.mean_min) }),
    onEachFeature: (f, layer) => layer.bindTooltip(el("span",
      `sector ${f.properties.cd_sector}: ${value(f.properties.mean_min, "minutes")} min`)),
  }).addTo(map);
  state.layers.wijken = L.geoJSON(layers.wijken, {
    style: (f) => ({ weight: f.properties.priority ? 2.5 : 0.8, color: f.properties.priority ? "#b2182b" : "#333",
      fillOpacity: 0 }),
    onEachFeature: (f, layer) => layer.on("click", () => showWijk(f.properties)),
  }).addTo(map);
  state.layers.bureaus = L.layerGroup(layers.bureaus.map((b) => L.circleMarker([b.lat, b.lon],
    { radius: 7, color: "#08519c", fillOpacity: 0.9 }).bindPopup(popup([b.name, `bestaand bureau (${b.set})`])))).addTo(map);
  state.venues = layers.venues;
  drawVenues();
  L.control.layers(null, { "wandeltijd per sector": state.layers.sectors, "wijken": state.layers.wijken,
    "bestaande bureaus": state.layers.bureaus, "kandidaat-locaties": state.layers.venues }).addTo(map);
  map.fitBounds(state.layers.wijken.getBounds());
}

function drawVenues() {
  if (state.layers.venues) map.removeLayer(state.layers.venues);
  state.layers.venues = L.geoJSON(state.venues, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, weight: 1, color: state.excluded.has(f.properties.id)
      ? "#999" : "#6a3d9a", fillOpacity: state.excluded.has(f.properties.id) ? 0.1 : 0.7 }),
    onEachFeature: (f, layer) => layer.bindPopup(() => venuePopup(f.properties)),
  }).addTo(map);
}
function venuePopup(p) {
  const out = state.excluded.has(p.id); const inn = state.admitted.has(p.id);
  return popup([p.name, `${p.type} · ${p.suitability} · LGN ${p.lgn}`, `id ${p.id}`],
    [[out ? "Niet meer uitsluiten" : "Uitsluiten", () => { toggleVenue(p.id); map.closePopup(); }],
      [inn ? "Niet meer toelaten" : "Toelaten", () => { toggleAdmit(p.id); map.closePopup(); }]]);
}
function toggleAdmit(id) {
  if (state.admitted.has(id)) state.admitted.delete(id); else { state.admitted.add(id); state.excluded.delete(id); }
  drawExcluded(); drawVenues();
}
function toggleVenue(id) {
  if (state.excluded.has(id)) state.excluded.delete(id); else { state.excluded.add(id); state.admitted.delete(id); }
  drawExcluded(); drawVenues();
}
function chips(ul, ids, undo) {
  clear(ul);
  [...ids].sort().forEach((id) => {
    const li = el("li", id, { "data-id": id });
    const x = el("button", "×", { title: "ongedaan maken" });
    x.addEventListener("click", () => undo(id));
    li.appendChild(x); ul.appendChild(li);
  });
}
function drawExcluded() {
  chips($("#excluded"), state.excluded, toggleVenue);
  chips($("#admitted"), state.admitted, toggleAdmit);
}

// --- overview -------------------------------------------------------------------------------------------------
function showWijk(p) {
  const box = clear($("#wijk-info")); box.hidden = false;
  box.appendChild(el("strong", `${p.name_nl}${p.rank ? ` (rang ${p.rank})` : ""}`));
  const dl = el("dl", null, { class: "figures" });
  [["LGN", p.lgn_name || p.lgn], ["prioritair", p.priority ? "ja" : "nee"], ["p_top21", value(p.p_top, "share")],
    ["kinderen 0-2", value(p.pop_0_2, "count")], ["wandeltijd (gem. min)", value(p.mean_min, "minutes")],
    ["kinderen niet bereikt", value(p.not_reached, "count")]].forEach(([k, v]) => {
    dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v));
  });
  box.appendChild(dl);
}
async function loadOverview() {
  const lgn = $("#lgn-select").value;
  const data = await api("GET", `/api/overview${lgn ? `?lgn=${encodeURIComponent(lgn)}` : ""}`);
  const a = data.area;
  $("#area-name").textContent = a.name;
  const dl = clear($("#area-figures"));
  // an incomplete layer of known bureaus: "not reached" is by the located ones only, never a finding
  const known = a.incomplete ? "een gekend bureau" : "een bureau";
  [["kinderen 0-2", value(a.children, "count")], [`binnen ${a.threshold_min} min van ${known}`,
    value(a.reached, "count")], [a.incomplete ? "niet bereikt door de gekende bureaus" : "niet bereikt",
    value(a.not_reached, "count")],
  ["prioritaire wijken", a.priority_wijken], ["vergeleken met", a.baseline]].forEach(([k, v]) => {
    dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v, { "data-figure": k }));
  });
  const notes = clear($("#area-notes"));
  if (a.incomplete) {
    notes.appendChild(el("li", "Geen bevinding: de kaart kent maar een deel van de bureaus (zie hieronder). Wie "
      + "hier 'niet bereikt' is, kan dicht bij een bureau wonen dat niet op de kaart staat. Vergelijk scenario's "
      + "op wat ze toevoegen.", { class: "warn", id: "incomplete-warning" }));
  }
  a.notes.forEach((n) => notes.appendChild(el("li", n)));
  const body = clear($("#wijken tbody"));
  data.wijken.forEach((w) => {
    const tr = el("tr", null, { class: w.priority ? "priority" : "", "data-mdrc": w.mdrc });
    [w.rank ?? "–", w.name_nl, value(w.p_top, "share"), value(w.pop_0_2, "count"), value(w.mean_min, "minutes"),
      value(w.not_reached, "count")].forEach((c) => tr.appendChild(el("td", c)));
    tr.addEventListener("click", () => showWijk(w));
    body.appendChild(tr);
  });
  if (state.layers.wijken) {
    const shown = state.layers.wijken.getLayers().filter((l) => !lgn || String(l.feature.properties.lgn) === lgn);
    if (shown.length) map.fitBounds(L.featureGroup(shown).getBounds());
  }
}

// --- editor ---------------------------------------------------------------------------------------------------
async function loadScenarios(select) {
  const data = await api("GET", "/api/scenarios");
  state.sets = data.sets;
  const base = $("#base-select"); const keep = select || base.value;
  clear(base);
  data.scenarios.forEach((s) => base.appendChild(el("option", `${s.title} (${s.name})`, { value: s.name })));
  if (keep && data.scenarios.some((s) => s.name === keep)) base.value = keep;
  const choices = clear($("#compare-choices"));
  data.scenarios.filter((s) => s.evaluated).forEach((s) => {
    const li = el("li"); const lab = el("label");
    const box = el("input", null, { type: "checkbox", value: s.name });
    lab.appendChild(box); lab.appendChild(document.createTextNode(` ${s.title} (${s.name})`));
    li.appendChild(lab); choices.appendChild(li);
  });
}
async function loadBase() {
  const name = $("#base-select").value;
  if (!name) return;
  const s = await api("GET", `/api/scenario?name=${encodeURIComponent(name)}`);
  $("#base-description").textContent = s.description;
  const form = clear($("#fields"));
  s.fields.forEach((f) => {
    if (f.value === null || f.value === undefined) return;  // a key this model has no use for
    if (f.key === "candidates.exclude") {
      state.excluded = new Set(f.value || []); state.initialExcluded = [...state.excluded].sort().join("\n");
      drawExcluded(); if (state.venues) drawVenues(); return;
    }
    const row = el("div", null, { class: "field" });
    const lab = el("label", f.label, { for: `f-${f.key}` });
    let input;
    if (f.key === "services.open") {
      input = el("select", null, { multiple: "", size: "3" });
      state.sets.forEach((set) => {
        const o = el("option", set.label, { value: set.name });
        if ((f.value || []).includes(set.name)) o.selected = true;
        input.appendChild(o);
      });
    } else {
      input = el("input", null, { type: f.kind === "int" || f.kind === "float" ? "number" : "text",
        step: f.kind === "int" ? "1" : "any" });
      input.value = Array.isArray(f.value) ? f.value.join(", ") : (f.value ?? "");
    }
    input.id = `f-${f.key}`; input.dataset.key = f.key; input.dataset.kind = f.kind;
    input.dataset.initial = input.tagName === "SELECT" ? [...input.selectedOptions].map((o) => o.value).join(",")
      : input.value;
    row.appendChild(lab); row.appendChild(input);
    if (f.source) row.appendChild(el("span", f.source, { class: "source", title: f.basis || "" }));
    row.appendChild(el("span", "", { class: "field-error", "data-key": f.key }));
    form.appendChild(row);
  });
}
function edits() {
  const out = {};
  document.querySelectorAll("#fields [data-key]").forEach((input) => {
    const key = input.dataset.key;
    if (input.tagName === "SELECT") {
      const chosen = [...input.selectedOptions].map((o) => o.value);
      if (chosen.join(",") !== input.dataset.initial) out[key] = chosen;
      return;
    }
    if (input.value === input.dataset.initial) return;
    if (input.dataset.kind === "list" || input.dataset.kind === "slots") {
      out[key] = input.value.split(",").map((x) => x.trim()).filter(Boolean);
    } else out[key] = input.value;
  });
  const excluded = [...state.excluded].sort();
  if (excluded.join("\n") !== (state.initialExcluded || "")) out["candidates.exclude"] = excluded;
  return out;
}
async function run(path) {
  showError(null, $("#editor-error")); $("#editor-error").textContent = "";
  const body = { base: $("#base-select").value, edits: edits(), admit: [...state.admitted].sort() };
  const name = $("#save-name").value.trim(); if (name) body.name = name;
  try {
    state.job = await api("POST", path, body);
  } catch (err) { showError(err, $("#editor-error")); return; }
  $("#cancel").disabled = false; $("#compute").disabled = true;
  const id = state.job.id;
  while (state.job && state.job.id === id) {
    const j = await api("GET", `/api/jobs/${id}`);
    $("#progress").textContent = j.state === "running" ? `bezig: ${j.step || "starten"}` : j.state === "queued"
      ? "in de wachtrij" : "";
    if (!["queued", "running"].includes(j.state)) { await finish(j); break; }
    await new Promise((r) => setTimeout(r, 300));
  }
}
async function finish(j) {
  $("#cancel").disabled = true;
  state.job = null;
  if (j.state === "done") {
    await loadScenarios(j.result.scenario);  // the form now edits the scenario just computed
    await loadBase();
    showResult(j.result);
  } else if (j.state === "cancelled") $("#progress").textContent = "geannuleerd";
  else showError({ error: j.error, field: j.field }, $("#editor-error"));
  $("#compute").disabled = false;
}
function showResult(r) {
  state.result = r;
  $("#result").hidden = false;
  $("#result-title").textContent = `${r.title} (${r.scenario})${r.from_cache ? " — uit de cache" : ""}`;
  const m = clear($("#measures tbody"));
  r.measures.forEach((x) => {
    const tr = el("tr", null, { "data-measure": x.column, "data-value": x.value ?? "" });
    tr.appendChild(el("th", x.label)); tr.appendChild(el("td", value(x.value, x.kind)));
    m.appendChild(tr);
  });
  const tt = clear($("#timetable tbody"));
  r.timetable.forEach((t) => {
    const tr = el("tr", null, { "data-venue": t.venue_id });
    [t.team, t.dag, t.dagdeel, t.venue_name, t.lgn, value(t.expected_attendance, "minutes")]
      .forEach((c) => tr.appendChild(el("td", c)));
    const td = el("td"); const b = el("button", "uitsluiten", { class: "exclude", "data-venue": t.venue_id });
    b.addEventListener("click", () => toggleVenue(t.venue_id));
    td.appendChild(b); tr.appendChild(td); tt.appendChild(tr);
  });
  if (state.layers.sites) map.removeLayer(state.layers.sites);
  state.layers.sites = L.layerGroup(r.sites.map((s) => L.marker([s.lat, s.lon]).bindPopup(popup([s.name,
    `${s.sessions_per_week} sessie(s)/week · ${value(s.consultations_per_year, "count")} consultaties/jaar`,
    `id ${s.id}`], [["Uitsluiten", () => { toggleVenue(s.id); map.closePopup(); }]])))).addTo(map);
  $("#curve-box").hidden = !r.curve.length;
  const cb = clear($("#curve-table tbody"));
  r.curve.forEach((c) => {
    const tr = el("tr");
    [c.teams, c.sessions_per_week, value(c.consultations_served, "count"), value(c.share_priority_served, "share")]
      .forEach((v) => tr.appendChild(el("td", v)));
    cb.appendChild(tr);
  });
  const need = r.teams_needed;
  $("#teams-needed").textContent = need ? (need.teams ? `${need.teams} teams nodig voor ${value(need.target_share,
    "share")} van de verwachte consultaties in de prioritaire wijken` : `meer dan ${need.max_teams} teams nodig`) : "";
  const a = clear($("#assumptions"));
  r.assumptions.forEach((x) => a.appendChild(el("li", `${x.label}: ${x.value} (${x.source})`)));
  const n = clear($("#notes"));
  r.notes.forEach((x) => n.appendChild(el("li", x)));
  $("#download-toml").href = link("/api/download/scenario", { name: r.scenario });
  $("#download-venues").href = link("/api/download/venues", { name: r.scenario });
  $("#download-venues").hidden = !(state.admitted.size || state.added.length);
}

// --- venues added by address or click -------------------------------------------------------------------------
function showFound(found) {
  state.found = found;
  if (state.layers.found) map.removeLayer(state.layers.found);
  state.layers.found = L.layerGroup([L.marker([found.lat, found.lon]),
    ...(found.uncertainty_m ? [L.circle([found.lat, found.lon], { radius: found.uncertainty_m, color: "#e31a1c" })]
      : [])]).addTo(map);
  $("#venue-found").textContent = found.uncertainty_m
    ? `gevonden: ${found.matched} (${found.accuracy}, ± ${fmt.format(found.uncertainty_m)} m)` : "punt op de kaart";
  $("#venue-add").disabled = false;
}
async function findAddress() {
  const q = new URLSearchParams({ street: $("#venue-street").value, number: $("#venue-number").value,
    postcode: $("#venue-postcode").value });
  try { showFound(await api("GET", `/api/geocode?${q}`)); } catch (err) { showError({ ...err, field: "venue" }); }
}
async function addVenue() {
  if (!state.found) return;
  try {
    const v = await api("POST", "/api/venues", { name: $("#venue-name").value, lon: state.found.lon,
      lat: state.found.lat, uncertainty_m: state.found.uncertainty_m ?? null });
    state.added.push(v);
    const li = el("li", `${v.name} (${v.id})`); $("#added").appendChild(li);
    $("#venue-add").disabled = true;
  } catch (err) { showError({ ...err, field: "venue" }); }
}
map.on("click", (e) => {
  if (!state.clickMode) return;
  state.clickMode = false; map.getContainer().style.cursor = "";
  showFound({ lon: e.latlng.lng, lat: e.latlng.lat, uncertainty_m: null });
});

// --- compare and own data -------------------------------------------------------------------------------------
async function compare() {
  const names = [...document.querySelectorAll("#compare-choices input:checked")].map((b) => b.value);
  $("#compare-error").textContent = "";
  let c;
  try { c = await api("POST", "/api/compare", { names }); } catch (err) { showError(err, $("#compare-error")); return; }
  $("#comparison").hidden = false;
  const head = clear($("#comparison-table thead")); const tr = el("tr");
  c.header.forEach((h) => tr.appendChild(el("th", h))); head.appendChild(tr);
  const body = clear($("#comparison-table tbody"));
  c.rows.forEach((row) => { const r = el("tr"); row.forEach((v) => r.appendChild(el("td", v))); body.appendChild(r); });
  $("#comparison-note").textContent = c.note || "";
  $("#tradeoff").src = c.chart;
  $("#download-workbook").href = link("/api/download/workbook", { names: names.join(",") });
  $("#download-print").href = link("/api/download/print", { names: names.join(",") });
}
async function upload() {
  const file = $("#upload-file").files[0];
  showError(null);
  if (!file) { showError({ error: "kies eerst een bestand", field: "file" }); return; }
  let rep;
  try {
    rep = await api("POST", `/api/upload?filename=${encodeURIComponent(file.name)}`, undefined, await file.arrayBuffer());
  } catch (err) { showError({ ...err, field: err.field || "file" }); return; }
  $("#import-report").hidden = false; delete $("#import-report").dataset.ready;
  $("#import-summary").textContent = `${rep.file}: ${rep.placed} geplaatst, ${rep.unplaced} niet geplaatst; ` +
    `te gebruiken als dienstenset '${rep.set}'`;
  const w = clear($("#import-warnings")); rep.warnings.forEach((x) => w.appendChild(el("li", x)));
  const body = clear($("#import-report tbody"));
  rep.rows.forEach((r) => {
    const tr = el("tr", null, { class: r.placed ? "" : "unplaced" });
    [r.id, r.name, r.placed ? "ja" : "nee", r.accuracy, r.uncertainty_m === null ? "" : fmt.format(r.uncertainty_m),
      r.reason].forEach((v) => tr.appendChild(el("td", v)));
    body.appendChild(tr);
  });
  await loadScenarios(); await loadBase();
  $("#import-report").dataset.ready = "1";  // the editor offers the list now
}

// --- start ----------------------------------------------------------------------------------------------------
function tabs() {
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== `tab-${b.dataset.tab}`; });
  }));
}
async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  state.token = hash.get("token");
  tabs();
  try {
    const s = await api("POST", "/api/session");
    state.session = s.session; state.baseline = s.baseline;
    s.lgns.forEach(([n, name]) => $("#lgn-select").appendChild(el("option", `${n}. ${name}`, { value: n })));
    drawOverview(await api("GET", "/api/layers"));
    await loadOverview();
    await loadScenarios();
    await loadBase();
    setStatus("klaar");
  } catch (err) { setStatus(`fout: ${err.error || err}`); }
  $("#lgn-select").addEventListener("change", loadOverview);
  $("#base-select").addEventListener("change", loadBase);
  $("#compute").addEventListener("click", () => run("/api/evaluate"));
  $("#curve").addEventListener("click", () => run("/api/curve"));
  $("#cancel").addEventListener("click", async () => {
    if (!state.job) return;
    const j = await api("POST", `/api/jobs/${state.job.id}/cancel`);
    await finish(j);
  });
  $("#venue-find").addEventListener("click", findAddress);
  $("#venue-click").addEventListener("click", () => { state.clickMode = true; map.getContainer().style.cursor = "crosshair"; });
  $("#venue-add").addEventListener("click", addVenue);
  $("#compare-go").addEventListener("click", compare);
  $("#upload-btn").addEventListener("click", upload);
}
start();
