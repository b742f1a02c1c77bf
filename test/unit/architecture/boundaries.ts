// The dependency rules of the source tree, and a checker that parses every import, export-from,
// require() and import() (including `typeof import('x')` types) with the TypeScript parser.
//
//   cli -> director -> {ipvs, health, config, vrrp -> rtnl} -> netlink      realserver -> rtnl -> netlink
//   errors, log and native (the loader of dist/native/*.node) are leaves: they import nothing of ours.
//
// A layer may import the layers below it (cli may use ipvs for `lvsd ipvs`), never one above or
// beside it. Type-only imports are held to the same rules: a type ties two modules' changes too.
// Decisions the arrows leave open, written down here:
// - config may import health: health owns the check vocabulary (roles, default timing, status
//   ranges, CheckSpec) and config validates a config's checks into it; a second copy of those in
//   config would drift. health never imports config.
// - a reconciler, if it gets a folder of its own (src/reconciler), sits between director and
//   ipvs: director -> reconciler -> ipvs.
// - src/cli may import realserver/: `lvsd realserver` is dispatched from the one command line.
//   Nothing else in src/ may.
// - src/cli/warm-up.ts may import netlink: it plays the kernel's side of a netlink exchange while
//   the start-up snapshot is built (build time only), so that the snapshot holds the codecs warm.
// - bench/ may import src/ and realserver/ (it measures them), and test/support/ (the lab topology
//   the end-to-end benchmarks share with the tests), never the tests themselves; src/ neither.
// - folders that do not exist yet (src/director, src/config) are governed all the same; a new
//   folder or top-level file in src/ is in no component until it is given one here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

export type Component =
  | 'errors'
  | 'log'
  | 'native'
  | 'netlink'
  | 'rtnl'
  | 'vrrp'
  | 'ipvs'
  | 'health'
  | 'config'
  | 'reconciler'
  | 'director'
  | 'cli'
  | 'realserver'
  | 'bench'
  | 'test'
  | 'test-support'
  | 'package.json'
  | 'src-other';

/** The component a repository path (forward slashes, relative to the root) belongs to. */
export function componentOf(path: string): Component | undefined {
  if (path === 'src/errors.ts') return 'errors';
  if (path === 'src/native.ts') return 'native';
  if (path === 'package.json') return 'package.json';
  const m = /^src\/(log|netlink|rtnl|vrrp|ipvs|health|config|reconciler|director|cli)(\/|\.ts$)/.exec(path);
  if (m) return m[1] as Component;
  if (path.startsWith('src/')) return 'src-other';
  if (path.startsWith('realserver/')) return 'realserver';
  if (path.startsWith('bench/')) return 'bench';
  if (path.startsWith('test/support/')) return 'test-support';
  if (path.startsWith('test/')) return 'test';
  return undefined;
}

const LEAVES: Component[] = ['errors', 'log', 'native'];

const BELOW_CLI: Component[] = ['director', 'reconciler', 'ipvs', 'health', 'config'];

/** What each component may import (besides itself). */
export const ALLOWED: Record<Component, readonly Component[]> = {
  errors: [],
  log: [],
  native: [],
  netlink: [...LEAVES],
  rtnl: ['netlink', ...LEAVES],
  // VRRP: the protocol, its raw sockets and the virtual addresses it adds and removes
  vrrp: ['rtnl', 'netlink', ...LEAVES],
  ipvs: ['netlink', ...LEAVES],
  health: [...LEAVES],
  config: ['health', ...LEAVES],
  reconciler: ['ipvs', ...LEAVES],
  director: ['reconciler', 'ipvs', 'health', 'config', 'vrrp', ...LEAVES],
  cli: [...BELOW_CLI, 'realserver', 'package.json', ...LEAVES],
  realserver: ['rtnl', 'netlink', 'config', ...LEAVES],
  bench: [...BELOW_CLI, 'cli', 'realserver', 'vrrp', 'rtnl', 'netlink', 'test-support', 'package.json', ...LEAVES],
  // tests may use anything; they are here so bench/ and src/ importing them is caught
  test: [...BELOW_CLI, 'cli', 'realserver', 'vrrp', 'rtnl', 'netlink', 'bench', 'test-support', 'package.json', ...LEAVES],
  'test-support': [...BELOW_CLI, 'cli', 'realserver', 'vrrp', 'rtnl', 'netlink', 'bench', 'test-support', 'package.json', ...LEAVES],
  'package.json': [],
  'src-other': [],
};

export interface Import {
  /** the importing file, relative to the repository root */
  from: string;
  /** the imported file (without extension), relative to the root */
  to: string;
  specifier: string;
  line: number;
  /** `import type` and the like (erased from the JavaScript); the rules treat them as any other */
  typeOnly: boolean;
}

/** Every relative import of `source` (the file at `path`), resolved against the repository root. */
export function importsOf(path: string, source: string): Import[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: Import[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean): void => {
    if (!specifier.startsWith('.')) return; // node: builtins and npm packages
    let to = normalize(join(dirname(path), specifier)).replace(/\\/g, '/').replace(/\.(js|ts)$/, '');
    // src/cli/main.ts reads '../../../package.json' from where it runs, dist/src/cli: the root's own
    if (/^(\.\.\/)+package\.json$/.test(to)) to = 'package.json';
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    found.push({ from: path, to, specifier, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) add(node, e.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const [arg] = node.arguments;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      if ((isRequire || isImport) && arg && ts.isStringLiteralLike(arg)) add(node, arg.text, false);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal)) add(node, arg.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

export interface Violation {
  from: string;
  line: number;
  specifier: string;
  rule: string;
}

/** Checks one import against the rules; undefined when it is allowed. */
export function ruleBroken(imp: Import): string | undefined {
  const from = componentOf(imp.from);
  const to = componentOf(`${imp.to}.ts`) ?? componentOf(`${imp.to}/index.ts`) ?? componentOf(imp.to);
  if (!from) return undefined; // outside src/, realserver/, bench/, test/: not governed
  if (!to) return `${from} imports ${imp.to}, which is outside src/, realserver/ and bench/`;
  if (from === 'src-other') return `${imp.from} is in no component: give it one in test/unit/architecture/boundaries.ts`;
  if (to === from || ALLOWED[from].includes(to)) return undefined;
  if (to === 'src-other') return `${imp.to} is in no component: give it one in test/unit/architecture/boundaries.ts`;
  return `${from} must not import ${to}; ${from} may import ${ALLOWED[from].join(', ') || 'nothing of ours'}`;
}

/** Every broken rule among the imports of the given files (path -> source). */
/** The written-down exceptions above, file by file. */
const EXCEPTIONS: readonly { from: string; to: string }[] = [{ from: 'src/cli/warm-up.ts', to: 'src/netlink/' }];

export function violations(files: Map<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [path, source] of files) {
    for (const imp of importsOf(path, source)) {
      if (EXCEPTIONS.some((a) => a.from === imp.from && imp.to.startsWith(a.to))) continue;
      const rule = ruleBroken(imp);
      if (rule) out.push({ from: imp.from, line: imp.line, specifier: imp.specifier, rule });
    }
  }
  return out;
}

/**
 * Import cycles among the given files (type-only imports count: a type that ties two modules
 * together ties their changes too). Each cycle is listed once, as the files along it.
 */
export function cycles(files: Map<string, string>): string[][] {
  const key = (p: string): string => p.replace(/\.ts$/, '');
  const known = new Set([...files.keys()].map(key));
  const edges = new Map<string, string[]>();
  for (const [path, source] of files) {
    const targets = importsOf(path, source)
      .map((i) => (known.has(i.to) ? i.to : known.has(`${i.to}/index`) ? `${i.to}/index` : undefined))
      .filter((t): t is string => t !== undefined);
    edges.set(key(path), [...new Set(targets)]);
  }
  // Tarjan's strongly connected components: every component of more than one file is a cycle.
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indexOf.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const members: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(members.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!indexOf.has(v)) strong(v);
  return found;
}

/** The .ts files under the given folders of `root`, keyed by their path relative to `root`. */
export function readTree(root: string, folders: string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // a folder that does not exist (yet) has nothing to check
    }
    for (const name of names.sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.set(relative(root, full).replace(/\\/g, '/'), readFileSync(full, 'utf8'));
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files;
}
