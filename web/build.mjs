// Builds the map page into web/dist/ with esbuild.
//
// Output (every URL is under /map/, where the server mounts web/dist/):
//   dist/index.html     src/index.html with the asset URLs versioned (?v=<content hash>)
//   dist/app.js         src/main.js + Leaflet + Leaflet.markercluster, bundled and minified
//   dist/app.css        src/app.css + the CSS of both libraries
//   dist/assets/*.png   images the CSS and JS reference (Leaflet's layer-control and marker icons)
//   dist/favicon.svg    so the browser never asks the server root for /favicon.ico
//
// `node build.mjs --watch` rebuilds on change (for development against a running server).
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

/** Writes dist/index.html with each asset URL carrying the hash of the file it names. */
function writeHtml() {
  const hash = (f) => createHash('sha256').update(readFileSync(join(dist, f))).digest('hex').slice(0, 12);
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replaceAll('/map/app.js"', `/map/app.js?v=${hash('app.js')}"`)
    .replaceAll('/map/app.css"', `/map/app.css?v=${hash('app.css')}"`);
  writeFileSync(join(dist, 'index.html'), html);
  copyFileSync(join(src, 'favicon.svg'), join(dist, 'favicon.svg'));
}

const options = {
  entryPoints: { app: join(src, 'main.js') },
  bundle: true,
  minify: !watch,
  sourcemap: true,
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  format: 'iife',
  outdir: dist,
  // Images referenced from CSS (Leaflet's layers.png) or imported in JS (marker icons) are
  // copied with a content hash and addressed under the server's /map/ mount point.
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  publicPath: '/map/',
  legalComments: 'linked',
  logLevel: 'info',
  plugins: [{ name: 'html', setup(b) { b.onEnd((r) => { if (r.errors.length === 0) writeHtml(); }); } }],
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
