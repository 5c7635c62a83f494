// Builds the generated part of static/ from node_modules (run by build.sh after npm ci):
//   static/vendor/    GraphiQL, React and the explorer plugin, as their UMD builds
//   static/explorer/  the /explorer example app, bundled by esbuild
// Deterministic: the same package-lock.json gives byte-identical files, so CI can
// rebuild and compare with what is committed.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';

const web = path.resolve(import.meta.dirname, '..');
const modules = path.join(web, 'node_modules');
const vendorDir = path.join(web, 'static', 'vendor');
const explorerDir = path.join(web, 'static', 'explorer');

function write(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data, { mode: 0o644 });
  fs.chmodSync(file, 0o644); // independent of the caller's umask
}

// Scripts and stylesheets this large are stored gzipped (name.gz), as they are served to
// every browser that accepts gzip; web.go decompresses for the rest. Uncompressed they
// would be 4.5 MB of the binary and the image (GraphiQL's bundle alone 3.5 MB).
const gzipAbove = 32 << 10;

function writeAsset(file, text) {
  const data = Buffer.from(text, 'utf8');
  if (data.length <= gzipAbove) return write(file, data);
  write(file + '.gz', zlib.gzipSync(data, { level: 9 })); // no name or mtime in the header: deterministic
}

function fresh(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

// Source maps are not shipped, so their comments would only send devtools to a 404.
function withoutSourceMapComment(text) {
  return text.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n');
}

// The license of a package directory: its LICENSE file, else what package.json says.
function licenseOf(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = fs.readdirSync(dir).sort().find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  const text = file
    ? fs.readFileSync(path.join(dir, file), 'utf8').trim()
    : `${pkg.license} (the package ships no license file; see its repository)`;
  return `${pkg.name}@${pkg.version}\n${'-'.repeat(60)}\n${text}\n`;
}

// GraphiQL's stylesheet inlines its fonts and lint icons as data: URLs, which a
// same-origin-only CSP refuses. They become files next to the stylesheet, named by
// their content.
const dataURLTypes = { 'font/woff2': 'woff2', 'font/woff': 'woff', 'image/png': 'png' };

function externalizeDataURLs(css, outDir) {
  const out = css.replace(/url\((["']?)data:([a-z0-9.+/-]+);base64,([A-Za-z0-9+/=]+)\1\)/g, (_, _q, type, b64) => {
    const ext = dataURLTypes[type];
    if (!ext) throw new Error(`unexpected data: URL of type ${type} in a vendored stylesheet`);
    const bytes = Buffer.from(b64, 'base64');
    const name = `assets/${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${ext}`;
    write(path.join(outDir, name), bytes);
    return `url(${name})`;
  });
  if (out.includes('data:')) throw new Error('a data: URL is left in a vendored stylesheet');
  return out;
}

// GraphiQL's dialogs lock scrolling by adding a <style> element (react-remove-scroll),
// which a CSP without 'unsafe-inline' refuses unless it carries the page's nonce. The
// library asks webpack's nonce hook for one, which the prebuilt bundle hard-wires to
// undefined; here it takes the nonce of the script element that loads the bundle.
function withStyleNonce(js) {
  const hook = '__webpack_require__.nc = undefined;';
  if (js.split(hook).length !== 2) throw new Error(`graphiql.min.js: expected exactly one "${hook}"`);
  return js.replace(hook, '__webpack_require__.nc = (document.currentScript && document.currentScript.nonce) || undefined;');
}

function vendor() {
  fresh(vendorDir);
  const copies = [
    ['react/umd/react.production.min.js', 'react.production.min.js'],
    ['react-dom/umd/react-dom.production.min.js', 'react-dom.production.min.js'],
    ['graphiql/graphiql.min.js', 'graphiql.min.js'],
    ['@graphiql/plugin-explorer/dist/index.umd.js', 'graphiql-plugin-explorer.umd.js'],
  ];
  for (const [src, dst] of copies) {
    let js = withoutSourceMapComment(fs.readFileSync(path.join(modules, src), 'utf8'));
    if (dst === 'graphiql.min.js') js = withStyleNonce(js);
    writeAsset(path.join(vendorDir, dst), js);
  }
  for (const [src, dst] of [
    ['graphiql/graphiql.min.css', 'graphiql.min.css'],
    ['@graphiql/plugin-explorer/dist/style.css', 'graphiql-plugin-explorer.css'],
  ]) {
    const css = withoutSourceMapComment(fs.readFileSync(path.join(modules, src), 'utf8'));
    writeAsset(path.join(vendorDir, dst), externalizeDataURLs(css, vendorDir));
  }
  // The plugin's UMD build bundles graphiql-explorer; GraphiQL's bundles its own deps
  // under its MIT license file.
  const licensed = ['react', 'react-dom', 'graphiql', '@graphiql/plugin-explorer', '@graphiql/plugin-explorer/node_modules/graphiql-explorer'];
  write(path.join(vendorDir, 'LICENSES.txt'), licensed.map((p) => licenseOf(path.join(modules, p))).join('\n'));
}

// The package directory an esbuild input belongs to, e.g. node_modules/@apollo/client.
function packageDirOf(input) {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return null;
  const parts = input.slice(i + 'node_modules/'.length).split('/');
  return input.slice(0, i + 'node_modules/'.length) + parts.slice(0, parts[0].startsWith('@') ? 2 : 1).join('/');
}

async function bundleExplorer() {
  fresh(explorerDir);
  const result = await esbuild.build({
    absWorkingDir: web,
    entryPoints: { explorer: 'explorer/main.jsx' },
    outdir: explorerDir,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    charset: 'utf8',
    legalComments: 'none', // LICENSES.txt below carries them whole
    metafile: true,
    logLevel: 'warning',
    define: {
      'process.env.NODE_ENV': '"production"',
      // Apollo Client 3 keeps its development checks and messages behind this flag.
      'globalThis.__DEV__': 'false',
    },
  });
  for (const f of fs.readdirSync(explorerDir)) {
    const file = path.join(explorerDir, f);
    fs.chmodSync(file, 0o644);
    if (/\.(js|css)$/.test(f) && fs.statSync(file).size > gzipAbove) {
      writeAsset(file, fs.readFileSync(file, 'utf8'));
      fs.rmSync(file);
    }
  }
  const dirs = [...new Set(Object.keys(result.metafile.inputs).map(packageDirOf).filter(Boolean))].sort();
  write(path.join(explorerDir, 'LICENSES.txt'), dirs.map((d) => licenseOf(path.join(web, d))).join('\n'));
}

vendor();
await bundleExplorer();
