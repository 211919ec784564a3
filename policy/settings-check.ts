/**
 * Checks a resource's inputs against `path = value` requirements and reports each one broken,
 * naming the setting, its value and why it matters.
 */
import type { ReportViolation } from '@pulumi/policy';

export interface Requirement {
  readonly path: string;
  readonly value: unknown;
  readonly why: string;
}

function at(props: unknown, path: string): unknown {
  let value = props;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function checkSettings(props: unknown, requirements: readonly Requirement[], what: string, report: ReportViolation): void {
  for (const { path, value, why } of requirements) {
    const actual = at(props, path);
    if (actual !== value) {
      report(`${what}: ${path} must be ${JSON.stringify(value)} (is ${actual === undefined ? 'unset' : JSON.stringify(actual)}): ${why}`);
    }
  }
}
