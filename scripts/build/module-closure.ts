/**
 * The modules one entry reaches, compiled: each TypeScript source is transpiled on its own
 * (`ts.transpileModule`, with the repository's compiler options — `npm run typecheck` checks the
 * types), and the `import` / `export … from` / `import()` specifiers of the emitted JavaScript
 * (type-only imports are gone by then) lead to the next modules and to the npm packages needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

export interface ModuleClosure {
  /** Output path (relative, `.js` for `.ts`) → file contents. */
  readonly files: ReadonlyMap<string, string>;
  /** Bare package names, e.g. `@azure/functions`. */
  readonly packages: ReadonlySet<string>;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function compilerOptions(): ts.CompilerOptions {
  const { config } = ts.readConfigFile('tsconfig.json', ts.sys.readFile) as { config: unknown };
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, '.');
  // Every package is `"type": "module"`: emit ES modules. Transpiled one file at a time, NodeNext
  // cannot see that package.json and would emit CommonJS, which Node refuses in an ES module scope.
  return {
    ...options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: false,
    declaration: false,
    sourceMap: false,
  };
}

/** `entry` and every source it imports, relative to the repository root (`.ts` sources). */
export function moduleClosure(entry: string): ModuleClosure {
  const options = compilerOptions();
  const files = new Map<string, string>();
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const source = pending.pop() as string;
    if (seen.has(source)) continue;
    seen.add(source);
    if (!existsSync(source)) throw new Error(`${source} is imported but does not exist`);
    const text = readFileSync(source, 'utf8');
    if (!source.endsWith('.ts')) {
      files.set(source, text);
      continue;
    }
    const js = ts.transpileModule(text, { compilerOptions: options, fileName: source }).outputText;
    files.set(source.replace(/\.ts$/, '.js'), js);
    // Specifiers as written in the source (`./x.ts`), which is where the files are.
    for (const { fileName: specifier } of ts.preProcessFile(js, true, true).importedFiles) {
      if (specifier.startsWith('.')) pending.push(path.posix.normalize(path.posix.join(path.posix.dirname(source), specifier.replace(/\.js$/, '.ts'))));
      else if (!isBuiltin(specifier)) packages.add(packageNameOf(specifier));
    }
  }
  return { files, packages };
}
