/**
 * Zekt's policy pack for Azure: the security rules the mock tests prove, enforced on real
 * deployments. Run it with `pulumi preview --policy-pack policy` (and `up`).
 */
import { PolicyPack } from '@pulumi/policy';
import { zektPolicies } from './zekt-policies.ts';

new PolicyPack('zekt-azure', { policies: zektPolicies });
