// ofserve web console: plain ES module, no dependencies; everything it shows comes from this server's
// public /v2 endpoints (plus /console/settings.json, /console/metrics and /console/api/latency). Server
// data is only ever set as textContent, never parsed as HTML.

const POLL_MS = 2000;
const HISTORY = 60;
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const DEFAULT_IMAGE_SIZE = 224;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
};
const SVG_NS = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}) => {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

let settings = { controlMode: 'none', restrictedApis: [], metrics: false, latency: false };
const metadataCache = new Map(); // model name → metadata (READY models only)

function status(text, isError = false) {
  const node = $('status');
  node.textContent = text;
  node.style.color = isError ? '#ffb4ab' : '';
}

async function api(path, init) {
  const response = await fetch(path, init);
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

// ---- server metadata ------------------------------------------------------------------------------

async function loadServer() {
  const meta = await api('/v2');
  $('server-info').textContent = `${meta.name} ${meta.version} · extensions: ${(meta.extensions || []).join(', ')} · model control: ${settings.controlMode}`;
}

// ---- models ---------------------------------------------------------------------------------------

const restricted = (category) => settings.restrictedApis.includes(category);

async function refreshModels() {
  if (restricted('model-repository')) {
    $('models').replaceChildren(el('tbody', {}, [el('tr', {}, [el('td', { text: 'the model repository API is restricted on this server (--http-restricted-api)' })])]));
    return;
  }
  const index = await api('/v2/repository/index', { method: 'POST', body: '{}' });
  const tbody = $('models').tBodies[0];
  const rows = [];
  for (const m of index) {
    const actions = el('td');
    if (m.state === 'READY' || !m.version) {
      const show = el('button', { type: 'button', text: 'config' });
      show.addEventListener('click', () => showConfig(m.name, m.version));
      actions.append(show);
    }
    if (settings.controlMode === 'explicit') {
      const loaded = m.state === 'READY';
      const button = el('button', { type: 'button', text: loaded ? 'unload' : 'load', 'data-model': m.name });
      button.addEventListener('click', () => loadOrUnload(m.name, loaded ? 'unload' : 'load', button));
      actions.append(' ', button);
    }
    rows.push(
      el('tr', { 'data-model': m.name }, [
        el('td', { text: m.name }),
        el('td', { text: m.version || '' }),
        el('td', { class: `state-${m.state || 'UNKNOWN'}`, text: m.state || '' }),
        el('td', { class: 'muted small', text: m.reason || '' }),
        actions,
      ]),
    );
  }
  tbody.replaceChildren(...rows);
  const ready = [...new Set(index.filter((m) => m.state === 'READY').map((m) => m.name))];
  for (const name of [...metadataCache.keys()]) if (!ready.includes(name)) metadataCache.delete(name);
  await Promise.all(
    ready.filter((n) => !metadataCache.has(n)).map(async (n) => metadataCache.set(n, await api(`/v2/models/${encodeURIComponent(n)}`).catch(() => null))),
  );
  updateClassifyModels();
}

async function showConfig(name, version) {
  const path = `/v2/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}/config`;
  $('config-panel').hidden = false;
  $('config-panel').open = true;
  $('config-title').textContent = `Config of ${name}${version ? ` (version ${version})` : ''}`;
  try {
    $('config').textContent = JSON.stringify(await api(path), null, 2);
  } catch (e) {
    $('config').textContent = e.message;
  }
}

async function loadOrUnload(name, action, button) {
  button.disabled = true;
  status(`${action === 'load' ? 'loading' : 'unloading'} ${name}…`);
  try {
    await api(`/v2/repository/models/${encodeURIComponent(name)}/${action}`, { method: 'POST', body: '{}' });
    status(`${name}: ${action}ed`);
  } catch (e) {
    status(`${action} ${name}: ${e.message}`, true);
  } finally {
    button.disabled = false;
    await refreshModels().catch(() => undefined);
  }
}

// ---- classify -------------------------------------------------------------------------------------

/** Where the image dims sit in a model's input, like src/image/image-shape.ts; undefined if not an image. */
function imageInput(meta) {
  if (!meta || meta.inputs.length !== 1 || meta.outputs.length < 1) return undefined;
  const input = meta.inputs[0];
  const dims = input.shape;
  if (dims.length !== 4 && dims.length !== 3) return undefined;
  const image = dims.length === 4 ? dims.slice(1) : dims;
  const size = (d) => (d > 0 ? d : DEFAULT_IMAGE_SIZE);
  let layout;
  if (image[0] === 3) layout = 'NCHW';
  else if (image[2] === 3) layout = 'NHWC';
  else return undefined;
  const height = size(layout === 'NCHW' ? image[1] : image[0]);
  const width = size(layout === 'NCHW' ? image[2] : image[1]);
  const shape = dims.length === 4 ? [1, ...(layout === 'NCHW' ? [3, height, width] : [height, width, 3])] : layout === 'NCHW' ? [3, height, width] : [height, width, 3];
  return { name: input.name, datatype: input.datatype, layout, width, height, shape, output: meta.outputs[0].name };
}

function updateClassifyModels() {
  const select = $('classify-model');
  const previous = select.value;
  const options = [];
  for (const [name, meta] of [...metadataCache.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const input = imageInput(meta);
    if (input && input.datatype === 'FP32') options.push(el('option', { value: name, text: `${name} (${input.layout} ${input.width}×${input.height})` }));
  }
  select.replaceChildren(...options);
  if (options.some((o) => o.value === previous)) select.value = previous;
  $('drop').setAttribute('data-ready', options.length > 0 ? 'true' : 'false');
}

/** Browser twin of src/image/preprocess.ts: stretch to W×H (no aspect ratio), drop alpha, normalize. */
async function imageToTensor(file, input, normalization) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = input.width;
  canvas.height = input.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0, input.width, input.height);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, input.width, input.height).data;
  const pixels = input.width * input.height;
  const out = new Float32Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      let v = rgba[p * 4 + c] / 255;
      if (normalization === 'imagenet') v = (v - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      out[input.layout === 'NCHW' ? c * pixels + p : p * 3 + c] = v;
    }
  }
  return out;
}

async function classifyFile(file) {
  $('classify-error').textContent = '';
  const name = $('classify-model').value;
  const input = imageInput(metadataCache.get(name));
  if (!input) {
    $('classify-error').textContent = 'no image model is ready on this server';
    return;
  }
  const top = Math.max(1, Math.min(100, Number($('classify-top').value) || 5));
  const preview = $('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  status(`classifying ${file.name} with ${name}…`);
  try {
    const data = await imageToTensor(file, input, $('classify-norm').value);
    // The binary tensor extension: JSON header, then the raw little-endian FP32 bytes.
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: input.name, datatype: 'FP32', shape: input.shape, parameters: { binary_data_size: data.byteLength } }],
        outputs: [{ name: input.output, parameters: { classification: top } }],
      }),
    );
    const body = new Uint8Array(header.byteLength + data.byteLength);
    body.set(header, 0);
    body.set(new Uint8Array(data.buffer), header.byteLength);
    const started = performance.now();
    const reply = await api(`/v2/models/${encodeURIComponent(name)}/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.byteLength), 'Content-Type': 'application/octet-stream' },
      body,
    });
    const ms = performance.now() - started;
    const rows = reply.outputs[0].data.map((entry, i) => {
      // "<score>:<index>[:<label>]": split on the first two colons only (labels may hold colons).
      const first = entry.indexOf(':');
      const second = entry.indexOf(':', first + 1);
      const score = Number(entry.slice(0, first));
      const label = second >= 0 ? entry.slice(second + 1) : `class ${entry.slice(first + 1)}`;
      return { rank: i + 1, score, label };
    });
    const max = Math.max(...rows.map((r) => Math.abs(r.score)), 1e-9);
    $('classify-result').tBodies[0].replaceChildren(
      ...rows.map((r) => {
        const bar = el('div', { class: 'bar' });
        bar.style.width = `${Math.max(2, (120 * Math.abs(r.score)) / max)}px`;
        return el('tr', { class: 'prediction' }, [
          el('td', { text: String(r.rank) }),
          el('td', { class: 'label', text: r.label }),
          el('td', { class: 'score', text: r.score.toFixed(4) }),
          el('td', {}, [bar]),
        ]);
      }),
    );
    status(`${file.name}: ${rows[0] ? rows[0].label : '?'} (${ms.toFixed(0)} ms)`);
  } catch (e) {
    $('classify-error').textContent = `classify failed: ${e.message}`;
    status('classify failed', true);
  }
}

/** Explicit mode: a model the index does not list yet (never loaded) is loaded by its folder name. */
function setupLoadForm() {
  if (settings.controlMode !== 'explicit' || restricted('model-repository')) return;
  const form = $('load-form');
  form.hidden = false;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('load-name').value.trim();
    if (name) void loadOrUnload(name, 'load', form.querySelector('button'));
  });
}

function setupClassify() {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) void classifyFile(file);
  });
  $('file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) void classifyFile(file);
    e.target.value = '';
  });
}

// ---- live statistics ------------------------------------------------------------------------------

const SERIES = [
  { key: 'rate', title: 'requests/s', format: (v) => v.toFixed(1) },
  { key: 'latency', title: 'request latency (ms)', format: (v) => v.toFixed(2) },
  { key: 'queue', title: 'avg queue (ms)', format: (v) => v.toFixed(2) },
  { key: 'batch', title: 'avg batch size', format: (v) => v.toFixed(2) },
];
// The latency chart's lines: percentiles from /console/api/latency over the server's recent window (a
// request's latency as the server measured it), and the mean per poll from /v2/models/stats, dashed.
const LATENCY_LINES = [
  { key: 'p50', label: 'p50', color: '#1a73e8' },
  { key: 'p90', label: 'p90', color: '#e37400' },
  { key: 'p99', label: 'p99', color: '#c5221f' },
  { key: 'latency', label: 'avg', color: '#80868b', dash: '3 2' },
];
const POINT_KEYS = ['rate', 'latency', 'queue', 'batch', 'p50', 'p90', 'p99'];
const history = new Map(); // model → { last: {t, totals}, points: {rate:[],...} }

function totalsOf(stats) {
  let count = 0, ns = 0, queueNs = 0, inferences = 0, executions = 0;
  for (const s of stats) {
    count += s.inference_stats.success.count;
    ns += s.inference_stats.success.ns;
    queueNs += s.inference_stats.queue.ns;
    inferences += s.inference_count;
    executions += s.execution_count;
  }
  return { count, ns, queueNs, inferences, executions };
}

const CHART_W = 220, CHART_H = 70, CHART_PAD = 4;

/** Polyline runs of a series, broken where a value is null (no requests in the window then). */
function lines(points, max, attrs) {
  const runs = [[]];
  points.forEach((v, i) => {
    if (v === null) {
      if (runs[runs.length - 1].length) runs.push([]);
      return;
    }
    const x = CHART_PAD + (i * (CHART_W - 2 * CHART_PAD)) / (HISTORY - 1);
    const y = CHART_H - CHART_PAD - ((CHART_H - 2 * CHART_PAD) * v) / max;
    runs[runs.length - 1].push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  return runs.filter((r) => r.length > 1).map((r) => svg('polyline', { points: r.join(' '), fill: 'none', 'stroke-width': 1.5, ...attrs }));
}

function chart(points, spec) {
  const box = svg('svg', { width: CHART_W, height: CHART_H, viewBox: `0 0 ${CHART_W} ${CHART_H}`, role: 'img', 'aria-label': spec.title });
  const max = Math.max(...points, 1e-9);
  box.append(...lines(points, max, { stroke: '#1a73e8' }));
  const last = points.length ? spec.format(points[points.length - 1]) : '–';
  const label = svg('text', { x: CHART_W - CHART_PAD, y: 14, 'text-anchor': 'end', 'font-size': 12, fill: '#1d2433' });
  label.textContent = `${last} (max ${spec.format(max)})`;
  box.append(label);
  return el('div', { class: 'chart' }, [el('div', { class: 'chart-title', text: spec.title }), box]);
}

/**
 * p50/p90/p99 and the mean on one scale, with a legend of the latest values; `recent` is this model's
 * entry of /console/api/latency (undefined when the server does not report it).
 */
function latencyChart(points, spec, recent, windowText) {
  const box = svg('svg', { width: CHART_W, height: CHART_H, viewBox: `0 0 ${CHART_W} ${CHART_H}`, role: 'img', 'aria-label': spec.title });
  const shown = LATENCY_LINES.filter((l) => l.key === 'latency' || recent !== undefined);
  const max = Math.max(...shown.flatMap((l) => points[l.key].filter((v) => v !== null)), 1e-9);
  for (const l of shown) box.append(...lines(points[l.key], max, { stroke: l.color, class: `line-${l.key}`, ...(l.dash ? { 'stroke-dasharray': l.dash } : {}) }));
  const legend = el('div', { class: 'legend small' });
  for (const l of shown) {
    // Percentiles as the server has them now (also before the first line segment), the mean as plotted.
    const us = l.key === 'latency' ? null : recent[`${l.key}_us`];
    const series = points[l.key];
    const v = l.key === 'latency' ? (series.length ? series[series.length - 1] : null) : us === null ? null : us / 1000;
    const item = el('span', { class: 'legend-item', 'data-series': l.key }, [el('span', { class: 'swatch' }), `${l.label} ${v === null ? '–' : spec.format(v)}`]);
    item.firstChild.style.background = l.color;
    // The exact µs the server reported, so a test can compare the page with /console/api/latency.
    if (us !== null) item.setAttribute('data-us', String(us));
    legend.append(item);
  }
  const note = recent
    ? `p50/p90/p99 of the last ${recent.count} requests within ${windowText}; avg (dashed) per ${POLL_MS / 1000} s`
    : `avg per ${POLL_MS / 1000} s; no percentiles from this server`;
  return el('div', { class: 'chart latency-chart' }, [el('div', { class: 'chart-title', text: `${spec.title} · max ${spec.format(max)}` }), box, legend, el('div', { class: 'muted small', text: note })]);
}

async function refreshStats() {
  if (restricted('statistics')) {
    $('charts').textContent = 'the statistics API is restricted on this server (--http-restricted-api)';
    return;
  }
  const now = performance.now();
  const [{ model_stats: stats }, recent] = await Promise.all([api('/v2/models/stats'), settings.latency ? api('/console/api/latency') : undefined]);
  const recentByModel = new Map((recent ? recent.models : []).map((m) => [m.name, m]));
  const windowText = recent ? `${recent.window_s} s (at most ${recent.max_samples} per version)` : '';
  const byModel = new Map();
  for (const s of stats) byModel.set(s.name, [...(byModel.get(s.name) || []), s]);
  const blocks = [];
  for (const [name, list] of [...byModel.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const totals = totalsOf(list);
    const latest = recentByModel.get(name);
    let h = history.get(name);
    if (!h) history.set(name, (h = { last: undefined, points: Object.fromEntries(POINT_KEYS.map((k) => [k, []])) }));
    if (h.last) {
      const dt = (now - h.last.t) / 1000;
      const dc = totals.count - h.last.totals.count;
      const de = totals.executions - h.last.totals.executions;
      const ms = (key) => (latest && latest[key] !== null ? latest[key] / 1000 : null);
      const sample = {
        rate: dt > 0 ? Math.max(0, dc) / dt : 0,
        latency: dc > 0 ? (totals.ns - h.last.totals.ns) / dc / 1e6 : 0,
        queue: dc > 0 ? (totals.queueNs - h.last.totals.queueNs) / dc / 1e6 : 0,
        batch: de > 0 ? (totals.inferences - h.last.totals.inferences) / de : 0,
        p50: ms('p50_us'),
        p90: ms('p90_us'),
        p99: ms('p99_us'),
      };
      for (const k of POINT_KEYS) {
        h.points[k].push(sample[k]);
        if (h.points[k].length > HISTORY) h.points[k].shift();
      }
    }
    h.last = { t: now, totals };
    blocks.push(
      el('div', { class: 'model-stats', 'data-model': name }, [
        el('h3', { class: 'chart-title', text: `${name} · ${totals.count} requests, ${totals.executions} executions` }),
        ...SERIES.map((spec) => (spec.key === 'latency' ? latencyChart(h.points, spec, latest, windowText) : chart(h.points[spec.key], spec))),
      ]),
    );
  }
  $('charts').replaceChildren(...(blocks.length ? blocks : [el('p', { class: 'muted', text: 'no models loaded' })]));
}

async function refreshMetrics() {
  if (!settings.metrics) {
    $('metrics').textContent = 'metrics are off (--allow-metrics=false)';
    return;
  }
  const response = await fetch('/console/metrics');
  const text = await response.text();
  $('metrics').textContent = text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .join('\n');
}

// ---- main -----------------------------------------------------------------------------------------

async function tick() {
  const results = await Promise.allSettled([refreshModels(), refreshStats(), refreshMetrics()]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) status(`server unreachable: ${failed.reason.message}`, true);
}

async function main() {
  settings = await api('/console/settings.json');
  setupClassify();
  setupLoadForm();
  await loadServer().catch((e) => status(e.message, true));
  await tick();
  document.body.setAttribute('data-loaded', 'true');
  setInterval(() => void tick(), POLL_MS);
}

void main();
