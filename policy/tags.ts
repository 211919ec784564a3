/**
 * Tags: every taggable Azure resource says what manages it (`zekt:managed-by`), and a tenant
 * stack's resources all carry the same `zekt:tenant`.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { isTaggable } from './resource-types.ts';

function tagsOf(props: Record<string, unknown>): Record<string, unknown> {
  const tags = props.tags;
  return typeof tags === 'object' && tags !== null ? (tags as Record<string, unknown>) : {};
}

export const requiredTags: ResourceValidationPolicy = {
  name: 'zekt-required-tags',
  description: 'Every taggable Azure resource carries zekt:managed-by.',
  enforcementLevel: 'mandatory',
  validateResource: (args, report) => {
    if (!isTaggable(args.type)) return;
    const value = tagsOf(args.props)['zekt:managed-by'];
    if (typeof value !== 'string' || value === '') report(`${args.type} ${args.name}: tag zekt:managed-by is missing`);
  },
};

export const consistentTenantTag: StackValidationPolicy = {
  name: 'zekt-consistent-tenant-tag',
  description: 'In a tenant stack, every taggable resource carries the same zekt:tenant.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const taggable = args.resources.filter((r) => isTaggable(r.type));
    const tenants = new Set(taggable.map((r) => tagsOf(r.props)['zekt:tenant']).filter((t) => t !== undefined));
    if (tenants.size === 0) return;
    if (tenants.size > 1) report(`resources carry several zekt:tenant values: ${[...tenants].map(String).join(', ')}`);
    for (const r of taggable) {
      if (tagsOf(r.props)['zekt:tenant'] === undefined) report(`${r.type} ${r.name}: tag zekt:tenant is missing in a tenant stack`, r.urn);
    }
  },
};
