#!/usr/bin/env node
// Builds the Sync Lab page (lab/) into dist/lab, the directory wrangler.toml's [assets] serves. wrangler runs it
// before every `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml), so a fresh clone needs only
// `npm install`. Several local servers may start at once (the tests do): each file is written only when its
// content changed, through a temporary file and a rename, so a running server never reads a half-written file.
import { build } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const labDir = join(root, "lab");
const outDir = join(root, "dist", "lab");

const result = await build({
  entryPoints: [join(labDir, "main.ts"), join(labDir, "styles.css")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: "linked",
  outdir: outDir,
  write: false,
  logLevel: "warning",
});

const files = [
  ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
  { path: join(outDir, "index.html"), contents: await readFile(join(labDir, "index.html")) },
];
await mkdir(outDir, { recursive: true });
let written = 0;
for (const file of files) {
  if (await writeIfChanged(file.path, file.contents)) written++;
}
console.log(`[build-lab] ${relative(root, outDir)}: ${files.length} files, ${written} changed`);

async function writeIfChanged(path, contents) {
  const current = await readFile(path).catch(() => undefined);
  if (current !== undefined && Buffer.compare(current, contents) === 0) return false;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
  return true;
}
