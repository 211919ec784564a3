/**
 * Runs Zekt's policy pack over what a program registered under mocks: each resource policy on each
 * resource's inputs, each stack policy on all resources' outputs — as `pulumi preview
 * --policy-pack policy` would.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { zektPolicies } from '../../../policy/zekt-policies.ts';
import { resourceViolations, stackViolations } from '../../policy/support/policy-harness.ts';
import { plain, type RecordedResource } from './azure-mocks.ts';

/**
 * What the engine would record as dependencies: the resources whose id or name one of this
 * resource's inputs took (mocks do not report dependencies themselves).
 */
function dependenciesOf(resource: RecordedResource, all: readonly RecordedResource[]): string[] {
  const values = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') values.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
  };
  collect(plain(resource.inputs));
  return all.filter((other) => other !== resource && (values.has(other.id) || values.has(String(other.state.name)))).map((other) => other.name);
}

export async function policyPackViolations(resources: readonly RecordedResource[]): Promise<string[]> {
  const custom = resources.filter((r) => r.id !== '' && !r.type.startsWith('pulumi:'));
  const found: string[] = [];
  for (const policy of zektPolicies) {
    if ('validateStack' in policy) {
      const stack = custom.map((r) => ({ type: r.type, name: r.name, props: plain(r.state) as Record<string, unknown>, dependsOn: dependenciesOf(r, custom) }));
      for (const v of await stackViolations(policy as StackValidationPolicy, stack)) found.push(`${policy.name}: ${v.message}`);
    } else {
      for (const r of custom) {
        for (const v of await resourceViolations(policy as ResourceValidationPolicy, r.type, plain(r.inputs) as Record<string, unknown>, r.name)) {
          found.push(`${policy.name}: ${r.urn}: ${v.message}`);
        }
      }
    }
  }
  return found;
}
