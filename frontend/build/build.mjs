// Rebuilds frontend/static/vendor/ from pinned npm packages: `npm ci && npm run build`.
// The output is committed, so running the app never needs npm or the network.
import { build } from "esbuild";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const vendor = join(root, "frontend", "static", "vendor");

const bundles = [
  { entry: "d3-entry.js", out: "d3.js", licenses: ["d3", "internmap", "delaunator", "robust-predicates"] },
  { entry: "dagre-entry.js", out: "dagre.js", licenses: ["@dagrejs/dagre", "@dagrejs/graphlib"] },
  {
    entry: "codemirror-entry.js",
    out: "codemirror.js",
    licenses: ["codemirror", "@codemirror/view", "@codemirror/state", "@codemirror/language",
      "@codemirror/lang-python", "@lezer/highlight", "@lezer/python", "@lezer/common", "@lezer/lr",
      "style-mod", "w3c-keyname", "crelt", "@marijn/find-cluster-break"],
  },
];

function pkgDir(name) {
  return join(root, "node_modules", name);
}

const manifest = [];
for (const b of bundles) {
  await build({
    entryPoints: [join(here, b.entry)],
    outfile: join(vendor, b.out),
    bundle: true,
    format: "esm",
    minify: true,
    legalComments: "eof",
    target: ["es2020"],
    logLevel: "warning",
  });
  for (const name of b.licenses) {
    const dir = pkgDir(name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const licFile = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => join(dir, f))
      .find((f) => { try { readFileSync(f); return true; } catch { return false; } });
    const safe = name.replace("@", "").replace("/", "-");
    if (licFile) copyFileSync(licFile, join(vendor, `LICENSE.${safe}.txt`));
    manifest.push(`${name}@${pkg.version}  ${pkg.license}  -> ${b.out}${licFile ? `  (LICENSE.${safe}.txt)` : "  (no license file shipped)"}`);
  }
}
writeFileSync(join(vendor, "VERSIONS.txt"),
  "# Built by frontend/build/build.mjs with esbuild from package-lock.json; do not edit by hand.\n" +
  manifest.join("\n") + "\n");
console.log(manifest.join("\n"));

// The standalone HTML file's script and style (gradtrace.export inlines them): one IIFE, so it runs from
// file:// and inside an <iframe srcdoc>, where ES modules and Workers from other files cannot load.
// Its inputs' hashes are recorded, so a test can tell when the committed bundle is older than its sources.
const dist = join(root, "frontend", "static", "dist");
const bundled = ["d3", "internmap", "delaunator", "robust-predicates", "@dagrejs/dagre", "@dagrejs/graphlib"];
const notices = bundled.map((name) => `${name}:\n${readFileSync(join(vendor, `LICENSE.${name.replace("@", "").replace("/", "-")}.txt`), "utf8").trim()}`);
const sa = await build({
  entryPoints: { standalone: join(here, "standalone-entry.js") },
  outdir: dist,
  bundle: true,
  format: "iife",
  minify: true,
  legalComments: "none", // replaced by the full license texts below
  banner: { js: `/* gradtrace standalone player. Bundled third-party code and its licenses:\n\n${notices.join("\n\n").replaceAll("*/", "* /")}\n*/` },
  target: ["es2020"],
  metafile: true,
  logLevel: "warning",
});
const hash = (f) => createHash("sha256").update(readFileSync(join(root, f))).digest("hex");
const inputs = Object.keys(sa.metafile.inputs).map((f) => relative(root, resolve(f))).sort();
writeFileSync(join(dist, "standalone.inputs.json"),
  JSON.stringify({ note: "sha256 of every source of standalone.js/.css; rebuild with `npm run build`", inputs: Object.fromEntries(inputs.map((f) => [f, hash(f)])) }, null, 1) + "\n");
for (const [f, o] of Object.entries(sa.metafile.outputs)) console.log(`${relative(root, resolve(f))}  ${o.bytes} bytes`);
