/**
 * Starts a Functions app package the way the Azure Functions Node.js worker does, without the host:
 * the worker answers `require('@azure/functions-core')` itself (it hooks `Module.prototype.require`,
 * https://github.com/Azure/azure-functions-nodejs-worker/blob/v3.x/src/setupCoreModule.ts), then
 * loads the `main` of the app's package.json (`import()` for an ES module package). `@azure/functions`
 * registers each function through that core module; this records what it registered.
 *
 * Run with the package folder as working directory: `node start-as-functions-host.mjs <report.json>`.
 * Plain JavaScript with Node builtins only: it runs beside the package's own node_modules, not ours.
 */
import Module from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [report] = process.argv.slice(2);
if (!report) throw new Error('usage: start-as-functions-host.mjs <report.json>');

const registered = [];
let programmingModel;
const coreApi = {
  version: '3.10.1',
  hostVersion: '4.1040.0',
  setProgrammingModel(model) {
    programmingModel = { name: model.name, version: model.version };
  },
  getProgrammingModel() {
    return programmingModel;
  },
  registerFunction(metadata, callback) {
    if (typeof callback !== 'function') throw new Error(`function ${metadata.name} registered without a handler`);
    registered.push(metadata);
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  log() {},
  Disposable: class {
    dispose() {}
  },
};

const require = Module.prototype.require;
Module.prototype.require = new Proxy(require, {
  apply(target, thisArg, args) {
    return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
  },
});

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
if (!manifest.main) throw new Error('package.json has no main: the Functions host would find no functions');
await import(pathToFileURL(path.resolve(manifest.main)).href);
writeFileSync(report, JSON.stringify({ programmingModel, functions: registered }, null, 2));
// The host would now serve; this only checks that the app starts and what it registers.
process.exit(0);
