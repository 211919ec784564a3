/**
 * Calls a policy's `validateResource` / `validateStack` the way the Pulumi engine would, with
 * hand-made inputs and a `reportViolation` spy that records every call.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';

export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

class NotApplicable extends Error {
  override name = 'NotApplicable';
}

const opts = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  additionalSecretOutputs: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::zekt::${type}::${name}`;
}

function typeCheck(type: string) {
  // What the engine's `isType` does: compare the class's Pulumi type token.
  return (resourceClass: unknown): boolean => (resourceClass as { __pulumiType?: string }).__pulumiType === type;
}

/** The violations one resource validation reports for a resource of `type` with inputs `props`. */
export async function resourceViolations(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  name = 'subject',
): Promise<Violation[]> {
  const calls: Violation[] = [];
  const spy: ReportViolation = (message, urn) => calls.push(urn === undefined ? { message } : { message, urn });
  const isType = typeCheck(type);
  const args: ResourceValidationArgs = {
    type,
    props,
    urn: urnOf(type, name),
    name,
    opts,
    stackTags: new Map(),
    isType,
    asType: ((resourceClass: unknown) => (isType(resourceClass) ? props : undefined)) as ResourceValidationArgs['asType'],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) {
    if (!validate) continue;
    try {
      await validate(args, spy);
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  }
  return calls;
}

export interface StackResource {
  readonly type: string;
  readonly name: string;
  /** Outputs, as stack policies see them. */
  readonly props: Record<string, unknown>;
  /** Names of the resources this one depends on. */
  readonly dependsOn?: readonly string[];
}

/** The violations a stack validation reports for the given resources. */
export async function stackViolations(policy: StackValidationPolicy, resources: readonly StackResource[]): Promise<Violation[]> {
  const calls: Violation[] = [];
  const spy: ReportViolation = (message, urn) => calls.push(urn === undefined ? { message } : { message, urn });
  const policyResources: PolicyResource[] = resources.map((r) => {
    const isType = typeCheck(r.type);
    return {
      type: r.type,
      name: r.name,
      props: r.props,
      urn: urnOf(r.type, r.name),
      opts,
      dependencies: [] as PolicyResource[],
      propertyDependencies: {},
      isType,
      asType: ((resourceClass: unknown) => (isType(resourceClass) ? r.props : undefined)) as PolicyResource['asType'],
    };
  });
  resources.forEach((r, i) => {
    const deps = policyResources.filter((p) => r.dependsOn?.includes(p.name));
    (policyResources[i] as PolicyResource).dependencies.push(...deps);
  });
  const args: StackValidationArgs = {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  await policy.validateStack(args, spy);
  return calls;
}

/** A deep copy with the value at `path` replaced (or removed when `value` is undefined). */
export function withSetting<T extends Record<string, unknown>>(props: T, path: string, value: unknown): T {
  const copy = structuredClone(props);
  const keys = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    target[key] = typeof target[key] === 'object' && target[key] !== null ? target[key] : {};
    target = target[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}
