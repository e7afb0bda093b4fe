/**
 * The playground's browser script (served as a same-origin module). `EventSource` cannot send an
 * `Authorization` header and the edge authenticates the event stream like every `/v1` route, so the script
 * reads `GET /v1/predictions/:id/events` with `fetch` and parses the Server-Sent Events itself. An input image
 * (dropped or chosen) is drawn on a canvas at its own size; the mask brush paints white on a transparent canvas
 * over it; both are sent as PNG data: URIs (the mask on black, white = repaint) only when something was painted.
 * @module
 */

/** `GET /playground/app.js`. */
export const playgroundScript = `
const $ = (id) => document.getElementById(id);
const form = $('form');
const keyField = $('key');
keyField.value = sessionStorage.getItem('playground-key') || '';

function show(status, error) {
  $('status').textContent = status;
  $('error').hidden = !error;
  $('error').textContent = error || '';
}

const source = $('source');
const mask = $('mask');
let hasImage = false;
let painted = false;

function loadImageFile(file) {
  if (!file) return;
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    source.width = mask.width = img.naturalWidth;
    source.height = mask.height = img.naturalHeight;
    source.getContext('2d').drawImage(img, 0, 0);
    mask.getContext('2d').clearRect(0, 0, mask.width, mask.height);
    URL.revokeObjectURL(url);
    hasImage = true;
    painted = false;
    $('canvases').hidden = false;
    $('image-tools').hidden = false;
    $('drop-label').textContent = file.name + ' (' + img.naturalWidth + '×' + img.naturalHeight + ')';
  };
  img.onerror = () => show('That file is not an image the browser can read.', file.name);
  img.src = url;
}

$('image-file').addEventListener('change', (e) => loadImageFile(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  loadImageFile(e.dataTransfer.files[0]);
});

function brushAt(e) {
  const r = mask.getBoundingClientRect();
  const x = ((e.clientX - r.left) * mask.width) / r.width;
  const y = ((e.clientY - r.top) * mask.height) / r.height;
  const ctx = mask.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  ctx.arc(x, y, (Number($('brush').value) * mask.width) / r.width / 2, 0, Math.PI * 2);
  ctx.fill();
  painted = true;
}
let drawing = false;
mask.addEventListener('pointerdown', (e) => { drawing = true; mask.setPointerCapture(e.pointerId); brushAt(e); });
mask.addEventListener('pointermove', (e) => { if (drawing) brushAt(e); });
mask.addEventListener('pointerup', () => { drawing = false; });
$('clear-mask').addEventListener('click', () => { mask.getContext('2d').clearRect(0, 0, mask.width, mask.height); painted = false; });
$('clear-image').addEventListener('click', () => {
  hasImage = painted = false;
  $('canvases').hidden = $('image-tools').hidden = true;
  $('image-file').value = '';
  $('drop-label').textContent = 'Drop an image here';
});

/** The painted mask as a PNG: white strokes on black. */
function maskDataUrl() {
  const out = document.createElement('canvas');
  out.width = mask.width;
  out.height = mask.height;
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(mask, 0, 0);
  return out.toDataURL('image/png');
}

function requestBody() {
  const input = {
    prompt: $('prompt').value,
    width: Number($('width').value),
    height: Number($('height').value),
    num_inference_steps: Number($('steps').value),
    deepcache: $('deepcache').checked
      ? { cache_interval: Number($('interval').value), cache_branch_id: Number($('branch').value) }
      : false,
  };
  if ($('negative').value) input.negative_prompt = $('negative').value;
  if ($('scheduler').value) input.scheduler = $('scheduler').value;
  if ($('seed').value !== '') input.seed = Number($('seed').value);
  if (hasImage) {
    input.image = source.toDataURL('image/png');
    input.prompt_strength = Number($('strength').value);
    if (painted) input.mask = maskDataUrl();
  }
  return { model: $('model').value, input };
}

async function api(path, init = {}) {
  const headers = { authorization: 'Bearer ' + keyField.value.trim(), ...(init.headers || {}) };
  return fetch(path, { ...init, headers });
}

async function problem(res) {
  const body = await res.json().catch(() => null);
  const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e.pointer + ': ' + e.message).join('\\n') : '';
  return (body && (body.detail || body.title) ? body.detail || body.title : 'HTTP ' + res.status) + (errors ? '\\n' + errors : '');
}

/** Yields {event, data} for each Server-Sent Event of a streamed response. */
async function* sseEvents(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      yield { event, data: data.join('\\n') };
    }
  }
}

function showResult(prediction) {
  const m = prediction.metrics || {};
  const parts = [];
  if (m.unet_full_steps !== undefined) parts.push('U-Net steps: ' + m.unet_full_steps + ' full, ' + (m.unet_shallow_steps || 0) + ' shallow');
  if (m.predict_time !== undefined) parts.push('predict ' + m.predict_time.toFixed(2) + ' s');
  if (m.total_time !== undefined) parts.push('total ' + m.total_time.toFixed(2) + ' s');
  if (prediction.cost) parts.push(prediction.cost.credits + ' credits');
  $('timings').textContent = parts.join(' · ');
  if (prediction.output && prediction.output[0]) {
    $('image').src = prediction.output[0];
    $('result').hidden = false;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  sessionStorage.setItem('playground-key', keyField.value.trim());
  $('generate').disabled = true;
  $('result').hidden = true;
  $('progress').value = 0;
  show('Submitting…');
  try {
    const created = await api('/v1/predictions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(requestBody()) });
    if (!created.ok) return show('Refused.', await problem(created));
    const prediction = await created.json();
    show('Queued: ' + prediction.id);
    const stream = await api('/v1/predictions/' + prediction.id + '/events', { headers: { accept: 'text/event-stream' } });
    if (!stream.ok) return show('Could not follow the prediction.', await problem(stream));
    let finished = null;
    for await (const { event, data } of sseEvents(stream)) {
      const payload = JSON.parse(data);
      if (event === 'status') show(payload.status + ': ' + prediction.id);
      else if (event === 'progress') {
        $('progress').max = payload.total;
        $('progress').value = payload.step;
        show('processing: step ' + payload.step + ' of ' + payload.total);
      } else if (event === 'completed') finished = payload;
    }
    if (!finished) return show('The event stream ended early.', 'Reload the prediction with GET ' + prediction.urls.get);
    show(finished.status + ': ' + finished.id, finished.error || '');
    if (finished.status === 'succeeded') $('progress').value = $('progress').max;
    showResult(finished);
  } catch (err) {
    show('Failed.', String(err));
  } finally {
    $('generate').disabled = false;
  }
});

// A prediction's urls.web (/?prediction=<id>) shows that prediction once the API key is known.
const linked = new URLSearchParams(location.search).get('prediction');
async function showLinked() {
  if (!linked || !keyField.value.trim()) return;
  const res = await api('/v1/predictions/' + encodeURIComponent(linked));
  if (!res.ok) return show('Could not load prediction ' + linked + '.', await problem(res));
  const prediction = await res.json();
  show(prediction.status + ': ' + prediction.id, prediction.error || '');
  showResult(prediction);
}
if (linked) {
  show('Enter the API key to see prediction ' + linked + '.');
  keyField.addEventListener('change', () => {
    sessionStorage.setItem('playground-key', keyField.value.trim());
    showLinked().catch((err) => show('Failed.', String(err)));
  });
  showLinked().catch((err) => show('Failed.', String(err)));
}
`;
