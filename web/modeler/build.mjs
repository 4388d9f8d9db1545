// Bundles src/modeler.js and src/viewer.js (with their CSS and the bpmn font) into
// web/static/vendor/weijian-modeler/. Deterministic: no timestamps, no banners, content-hashed
// font names; the same package-lock.json gives byte-identical files.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static', 'vendor', 'weijian-modeler');
const require = createRequire(import.meta.url);

// bpmn-font's @font-face lists eot/woff2/woff/ttf/svg; every browser we support takes woff2
// (woff as the fallback), so only those two files are shipped.
const woffOnly = {
  name: 'bpmn-font-woff-only',
  setup(build) {
    build.onLoad({ filter: /bpmn-font[\\/]css[\\/]bpmn\.css$/ }, async (args) => {
      const css = await readFile(args.path, 'utf8');
      const face = '@font-face {\n  font-family: "bpmn";\n'
        + '  src: url("../font/bpmn.woff2") format("woff2"), url("../font/bpmn.woff") format("woff");\n'
        + '  font-weight: normal;\n  font-style: normal;\n}';
      const replaced = css.replace(/@font-face\s*{[^}]*}/, face);
      if (replaced === css) throw new Error('bpmn.css: no @font-face found');
      return { contents: replaced, loader: 'css', resolveDir: dirname(args.path) };
    });
  },
};

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await esbuild.build({
  entryPoints: { modeler: join(here, 'src', 'modeler.js'), viewer: join(here, 'src', 'viewer.js') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  charset: 'utf8',
  legalComments: 'eof',
  sourcemap: false,
  assetNames: 'fonts/[name]-[hash]',
  loader: { '.woff': 'file', '.woff2': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [woffOnly],
  // see src/no-feel-editor.js
  alias: {
    '@bpmn-io/feel-editor': join(here, 'src', 'no-feel-editor.js'),
    '@bpmn-io/feelers-editor': join(here, 'src', 'no-feel-editor.js'),
  },
  logLevel: 'warning',
});

const licences = {
  'bpmn-js': 'bpmn-js/LICENSE',
  'diagram-js': 'diagram-js/LICENSE',
  'bpmn-js-properties-panel': 'bpmn-js-properties-panel/LICENSE',
  '@bpmn-io/properties-panel': '@bpmn-io/properties-panel/LICENSE',
};
const lock = JSON.parse(await readFile(join(here, 'package-lock.json'), 'utf8'));
const versions = [];
for (const [name, file] of Object.entries(licences)) {
  const path = require.resolve(`${name}/package.json`).replace(/package\.json$/, 'LICENSE');
  await copyFile(path, join(out, `LICENSE.${name.replace('@bpmn-io/', 'bpmn-io-')}.txt`));
  versions.push(`- ${name} ${lock.packages[`node_modules/${name}`].version} (${file})`);
}
await writeFile(join(out, 'README.md'), [
  '# weijian-modeler (generated)',
  '',
  'Built by `make modeler` from `web/modeler/` (see docs/modeler.md); do not edit these files.',
  '`modeler.js`/`modeler.css`: bpmn-js Modeler with the properties panel and the Weijian group;',
  '`viewer.js`/`viewer.css`: NavigatedViewer with count badges and diff markers.',
  '',
  'Bundled packages (licences alongside):',
  '',
  ...versions,
  '',
].join('\n'));
