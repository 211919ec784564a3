/**
 * Runs one tenant compartment from the CLI, for debugging (the control plane runs the same program
 * inline). Config, in the `zekt` namespace:
 *   tenantId, creationId, location, controlPlanePrincipalId (required);
 *   ingressPrincipalId, platformSubnetIds (JSON list), platformBaseUrl (optional).
 */
import * as pulumi from '@pulumi/pulumi';
import { azureTenantProgram } from './tenant-compartment.ts';

const config = new pulumi.Config('zekt');
const ingressPrincipalId = config.get('ingressPrincipalId');
const platformBaseUrl = config.get('platformBaseUrl');

export default azureTenantProgram({
  tenantId: config.require('tenantId'),
  creationId: config.require('creationId'),
  location: config.require('location'),
  controlPlanePrincipalId: config.require('controlPlanePrincipalId'),
  platformSubnetIds: config.getObject<string[]>('platformSubnetIds') ?? [],
  ...(ingressPrincipalId ? { ingressPrincipalId } : {}),
  ...(platformBaseUrl ? { platformBaseUrl } : {}),
});
