/**
 * The tenant program: one function per target, used inline by the control plane's Automation API
 * (`tenantProgram(args)` is the `program` of the tenant's `LocalWorkspace`). Both targets return
 * the same outputs (`TenantStackOutputs`); which one runs is configuration (`ZEKT_TENANT_TARGET`).
 */
import type * as pulumi from '@pulumi/pulumi';
import { assertTenantId } from './tenant-id.ts';
import type { TenantStackOutputs } from './tenant-outputs.ts';
import { LocalTenantCompartment, type LocalTenantCompartmentArgs } from './local/local-tenant-compartment.ts';
import type { TenantCompartmentArgs } from './azure/tenant-compartment.ts';

export type TenantProgramOutputs = { readonly [K in keyof TenantStackOutputs]: pulumi.Output<TenantStackOutputs[K]> };

export type TenantProgram = () => Promise<TenantProgramOutputs>;

export type TenantProgramArgs = ({ readonly target: 'local' } & LocalTenantCompartmentArgs) | ({ readonly target: 'azure' } & TenantCompartmentArgs);

/** The tenant program for one tenant; the id is checked before it names anything. */
export function tenantProgram(args: TenantProgramArgs): TenantProgram {
  assertTenantId(args.tenantId);
  if (args.target === 'azure') {
    const { target: _target, ...azure } = args;
    // Loaded when an Azure stack runs: @pulumi/azure-native is large, and the local target never needs it.
    return async () => (await import('./azure/tenant-compartment.ts')).azureTenantProgram(azure)();
  }
  const { target: _target, ...local } = args;
  return async () => new LocalTenantCompartment(`tenant-${args.tenantId}`, local).outputs;
}
