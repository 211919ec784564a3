// Runs @pulumi/pulumi's dynamic-provider plugin (the engine starts it through
// bin/pulumi-resource-pulumi-nodejs) and ends it when the engine that started it is gone.
// Why: a worker killed mid-`up` takes the engine down with it, but nothing tells the plugin,
// which would otherwise live on as an orphan (seen here: reparented to init, still serving).
// An orphan's parent pid changes, so the plugin checks it twice a second.
import path from 'node:path';
import { setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';

const engine = process.ppid;
setInterval(() => {
  if (process.ppid !== engine) process.exit(0);
}, 500).unref();

const here = path.dirname(fileURLToPath(import.meta.url));
await import(pathToFileURL(path.join(here, '../../node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js')).href);
