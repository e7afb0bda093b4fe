/**
 * The playground, a small page served by the edge at `/` (with its script and stylesheet): it calls the public
 * API from the browser with the user's API key. Self-contained: no CDN, no inline script.
 * @module
 */
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';
import { playgroundHtml } from './page-html.js';
import { playgroundScript } from './page-script.js';
import { playgroundCss } from './page-style.js';

const cache = { 'cache-control': 'no-cache' };

/** Routes: `GET /`, `GET /playground/app.js`, `GET /playground/style.css`. */
export const playgroundRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.html(playgroundHtml, 200, cache))
  .get('/playground/app.js', (c) => c.body(playgroundScript, 200, { ...cache, 'content-type': 'text/javascript; charset=utf-8' }))
  .get('/playground/style.css', (c) => c.body(playgroundCss, 200, { ...cache, 'content-type': 'text/css; charset=utf-8' }));
