/**
 * Entry point of `pulumi up` for the shared platform (root `Pulumi.yaml`): reads the stack's
 * `zekt:*` config and runs the platform program; its result becomes the stack outputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { readPlatformConfig } from './platform-config.ts';
import { platformProgram } from './platform-program.ts';

export default async function main(): Promise<Record<string, unknown>> {
  return { ...platformProgram(readPlatformConfig(new pulumi.Config('zekt'), pulumi.getStack())) };
}
