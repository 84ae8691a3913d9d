import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** The repository root (this file is test/support/import-graph.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** The source folders whose imports the architecture tests check. */
export const SOURCE_DIRS = ["core", "objects", "worker", "client", "lab", "migrations", "bench", "scripts", "test"];

/** Every TypeScript file below `dir` (absolute paths), tests included. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : sourceFiles(path);
    return /\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/**
 * The specifiers a file imports or re-exports, types included (`import type`, `export … from`, `import("…")`).
 * Comments are not stripped: an import inside a comment counts, which errs on the strict side.
 */
export function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\b[^;"']*?\bfrom\s+["']([^"']+)["']/gm)) found.push(match[1] ?? "");
  for (const match of source.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) found.push(match[1] ?? "");
  for (const match of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(match[1] ?? "");
  return found;
}

/** Relative imports of every file under the source folders, as repo-relative paths (file → imported files). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(join(REPO_ROOT, dir))) {
      const from = relative(REPO_ROOT, file);
      const targets = specifiersOf(readFileSync(file, "utf8"))
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => relative(REPO_ROOT, resolve(file, "..", specifier)));
      graph.set(from, targets);
    }
  }
  return graph;
}

/** Each import cycle once, as the list of files around it (Tarjan's strongly connected components). */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfImport = (graph.get(node) ?? []).includes(node);
    if (component.length > 1 || selfImport) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** A folder's import rule, read from the `May import:` line of its README.md. */
export interface FolderRule {
  folder: string;
  allowed: string[];
}

/** The rule of every folder under `dirs` whose README.md has a `May import:` line. */
export function folderRules(dirs: readonly string[]): FolderRule[] {
  const rules: FolderRule[] = [];
  const visit = (dir: string): void => {
    const absolute = join(REPO_ROOT, dir);
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      if (entry.isDirectory()) visit(join(dir, entry.name));
      if (entry.name !== "README.md") continue;
      const line = /^May import:(.*)$/m.exec(readFileSync(join(absolute, entry.name), "utf8"));
      if (line) rules.push({ folder: dir, allowed: (line[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean) });
    }
  };
  for (const dir of dirs) visit(dir);
  return rules;
}

const isTestFile = (file: string) => /\.test\.tsx?$/.test(file);

/**
 * Imports that break a folder's rule: a non-test file directly in the folder importing a file that is neither in
 * the folder itself nor under an allowed folder (or equal to an allowed file).
 */
export function boundaryViolations(rules: readonly FolderRule[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const violations: string[] = [];
  const within = (path: string, entry: string) => (entry.endsWith(".ts") ? path === entry : path.startsWith(`${entry}/`));
  for (const rule of rules) {
    for (const [file, targets] of graph) {
      if (isTestFile(file) || !within(file, rule.folder) || file.slice(rule.folder.length + 1).includes("/")) continue;
      for (const target of targets) {
        const inFolder = within(target, rule.folder) && !target.slice(rule.folder.length + 1).includes("/");
        if (!inFolder && !rule.allowed.some((entry) => within(target, entry))) violations.push(`${file} → ${target}`);
      }
    }
  }
  return violations;
}
