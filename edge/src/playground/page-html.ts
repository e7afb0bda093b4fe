/**
 * The playground's HTML: a form for one prediction (optionally from an input image dropped on the drop zone, with a
 * mask painted over it with the brush), a progress bar, the image and its timings. Scripts and
 * styles are separate same-origin files (no inline code), so a strict `script-src 'self'` policy allows it.
 * @module
 */

/** The page at `GET /`. */
export const playgroundHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DeepCache image API · playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/playground/style.css">
<script type="module" src="/playground/app.js"></script>
</head>
<body>
<main>
<h1>DeepCache image API</h1>
<p class="hint">Generates through the public API (<code>POST /v1/predictions</code>) with your API key; progress comes from the prediction's event stream. API reference: <a href="/docs">/docs</a>.</p>
<form id="form">
  <label>API key <input id="key" name="key" type="password" autocomplete="off" required placeholder="sdk_…"></label>
  <label>Model <select id="model" name="model"><option>sd15-tiny-demo</option></select></label>
  <label class="wide">Prompt <textarea id="prompt" name="prompt" rows="2" required maxlength="2000">a red fox in the snow</textarea></label>
  <label class="wide">Negative prompt <input id="negative" name="negative" maxlength="2000" value=""></label>
  <label>Width <input id="width" name="width" type="number" min="64" max="2048" step="64" value="128"></label>
  <label>Height <input id="height" name="height" type="number" min="64" max="2048" step="64" value="128"></label>
  <label>Steps <input id="steps" name="steps" type="number" min="1" max="150" value="20"></label>
  <label>Scheduler <select id="scheduler" name="scheduler">
    <option value="">model default</option><option>ddim</option><option>pndm</option><option>euler</option>
    <option>euler_ancestral</option><option>dpmpp_2m</option><option>dpmpp_2m_karras</option></select></label>
  <label>Seed <input id="seed" name="seed" type="number" min="0" max="4294967295" placeholder="random"></label>
  <fieldset class="wide"><legend><label><input id="deepcache" name="deepcache" type="checkbox" checked> DeepCache</label></legend>
    <label>Cache interval <input id="interval" name="interval" type="number" min="1" max="20" value="3"></label>
    <label>Cache branch <input id="branch" name="branch" type="number" min="0" max="11" value="0"></label>
  </fieldset>
  <fieldset class="wide" id="from-image"><legend>Input image (optional): image-to-image, or inpainting where you paint</legend>
    <div id="drop" tabindex="0"><span id="drop-label">Drop an image here</span> or <label class="inline">choose a file <input id="image-file" type="file" accept="image/png,image/jpeg,image/webp"></label></div>
    <div id="canvases" hidden><canvas id="source"></canvas><canvas id="mask" title="paint the area to repaint"></canvas></div>
    <div id="image-tools" hidden>
      <label>Strength <input id="strength" name="strength" type="number" min="0.05" max="1" step="0.05" value="0.8"></label>
      <label>Brush <input id="brush" name="brush" type="range" min="2" max="64" value="12"></label>
      <button id="clear-mask" type="button">Clear mask</button>
      <button id="clear-image" type="button">Remove image</button>
    </div>
  </fieldset>
  <button id="generate" type="submit">Generate</button>
</form>
<section id="run" aria-live="polite">
  <p id="status">Idle.</p>
  <progress id="progress" max="1" value="0"></progress>
  <p id="error" class="error" hidden></p>
  <figure id="result" hidden><img id="image" alt="generated image"><figcaption id="timings"></figcaption></figure>
</section>
</main>
</body>
</html>
`;
