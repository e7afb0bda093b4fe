/**
 * The playground's stylesheet.
 * @module
 */

/** `GET /playground/style.css`. */
export const playgroundCss = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #1d1d1b; }
main { max-width: 760px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.hint { color: #555; margin-top: 0; }
form { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px 14px; background: #fff; padding: 16px; border-radius: 8px; }
label { display: flex; flex-direction: column; font-size: 13px; gap: 3px; }
.wide { grid-column: 1 / -1; }
fieldset { display: flex; gap: 14px; border: 1px solid #ddd; border-radius: 6px; }
legend label { flex-direction: row; align-items: center; gap: 6px; }
input, select, textarea, button { font: inherit; padding: 5px 7px; }
button { grid-column: 1 / -1; background: #1f5fbf; color: #fff; border: 0; border-radius: 6px; padding: 9px; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
progress { width: 100%; height: 14px; }
.error { color: #a11; white-space: pre-wrap; }
figure { margin: 12px 0; }
img { image-rendering: pixelated; min-width: 256px; max-width: 100%; border: 1px solid #ccc; background: #fff; }
#from-image { flex-direction: column; }
#drop { border: 2px dashed #aaa; border-radius: 6px; padding: 14px; text-align: center; color: #555; }
#drop.over { border-color: #1f5fbf; background: #eef3fb; }
label.inline { display: inline; }
#canvases { position: relative; align-self: flex-start; }
#canvases canvas { display: block; max-width: 100%; width: 256px; image-rendering: pixelated; }
#mask { position: absolute; inset: 0; opacity: .55; cursor: crosshair; touch-action: none; }
#image-tools { display: flex; gap: 12px; align-items: end; }
#image-tools button { grid-column: auto; padding: 6px 10px; }
figcaption { font-size: 13px; color: #333; margin-top: 6px; }
`;
