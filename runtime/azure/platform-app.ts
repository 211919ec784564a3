/**
 * Entry point of the shared platform's Functions app on Azure (package.json `main` after build):
 * settings from the app settings, storage by managed identity, the platform table registered.
 */
import { loadConfig } from '../config.ts';
import { createLogger } from '../core/logger.ts';
import { createStorage } from '../storage/create-storage.ts';
import { createPlatformFunctions } from '../platform/platform-functions.ts';
import { registerFunctions } from './register-functions.ts';
import { zektVersion } from '../core/version.ts';

const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel });
registerFunctions(createPlatformFunctions({ config, log, storage: createStorage(config.storage), version: zektVersion }));
