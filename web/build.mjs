// Builds the map page into web/dist/ with esbuild.
//
// Output (every URL is under /map/, where the server mounts web/dist/):
//   dist/index.html     src/index.html with the asset URLs versioned (?v=<content hash>)
//   dist/app.js         src/main.js + Leaflet + Leaflet.markercluster, bundled and minified
//   dist/app.css        src/app.css + the CSS of both libraries
//   dist/tiles.html     the vector tile viewer, src/tiles.html versioned the same way
//   dist/tiles.js       src/tiles.js + MapLibre GL JS
//   dist/tiles.css      src/tiles.css + MapLibre's CSS
//   dist/catalog.js     src/catalog-map.js + Leaflet: the small map of the server's HTML pages
//   dist/catalog.css    src/catalog.css + Leaflet's CSS, the style of those pages
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

// Each page and the bundle it loads (dist/<bundle>.js and dist/<bundle>.css).
const pages = { 'index.html': 'app', 'tiles.html': 'tiles' };

/** Writes each page into dist/ with its asset URLs carrying the hash of the file they name. */
function writeHtml() {
  const hash = (f) => createHash('sha256').update(readFileSync(join(dist, f))).digest('hex').slice(0, 12);
  for (const [page, bundle] of Object.entries(pages)) {
    const html = readFileSync(join(src, page), 'utf8')
      .replaceAll(`/map/${bundle}.js"`, `/map/${bundle}.js?v=${hash(`${bundle}.js`)}"`)
      .replaceAll(`/map/${bundle}.css"`, `/map/${bundle}.css?v=${hash(`${bundle}.css`)}"`);
    writeFileSync(join(dist, page), html);
  }
  copyFileSync(join(src, 'favicon.svg'), join(dist, 'favicon.svg'));
}

const options = {
  entryPoints: { app: join(src, 'main.js'), tiles: join(src, 'tiles.js'), catalog: join(src, 'catalog-map.js') },
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
