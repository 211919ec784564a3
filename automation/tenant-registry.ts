/**
 * The tenant registry: one Table storage entity per tenant, the control plane's source of truth
 * (not the Pulumi backend: the registry decides whether a stack is created or selected). Every
 * write is a read-modify-replace under the entity's ETag, retried on 412, so concurrent writers
 * (signup, worker, CLI) never overwrite each other. Status moves along
 * `requested → provisioning → ready | failed` and `deprovisioning → deleted`; anything else is an
 * `InvalidTransitionError`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TableClient, TableEntity } from '@azure/data-tables';
import { assertTenantId } from '../tenant-stack/tenant-id.ts';
import type { TenantStackOutputs } from '../tenant-stack/tenant-outputs.ts';
import { statusOf } from '../runtime/storage/status-of.ts';
import { createTenantIdentityIndex, identityIdsOf } from './tenant-identity-index.ts';

export type TenantStatus = 'requested' | 'provisioning' | 'ready' | 'failed' | 'deprovisioning' | 'deleted';

/** What the tenant's current or last job does. */
export type TenantOperation = 'provision' | 'destroy' | 'reconcile';

export interface RecordedError {
  readonly name: string;
  readonly message: string;
  readonly cause?: { readonly name: string; readonly message: string };
  readonly at: string;
}

export interface TenantProgress {
  readonly done: number;
  readonly total: number;
  /** The resource being worked on (its URN's last part), for display. */
  readonly current?: string;
}

export interface TenantRecord {
  readonly tenantId: string;
  readonly status: TenantStatus;
  /** Fixed per life of the tenant (a re-created tenant gets a new one); part of its vault name. */
  readonly creationId: string;
  /** The current request: jobs carrying another request id are stale. */
  readonly requestId: string;
  readonly operation: TenantOperation;
  /** Attempts of the current request. */
  readonly attempts: number;
  readonly lastError?: RecordedError;
  readonly progress?: TenantProgress;
  readonly outputs?: TenantStackOutputs;
  /** True once `stack init` succeeded for this life of the tenant. */
  readonly stackCreated: boolean;
  /** The last request that finished (a duplicate job for it is skipped). */
  readonly completedRequestId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly readyAt?: string;
  readonly deletedAt?: string;
  /** When the next retry of the current request is due. */
  readonly nextAttemptAt?: string;
  /** Summary of the last reconcile of this tenant. */
  readonly lastReconcile?: { readonly at: string; readonly drifted: number; readonly repaired: number };
  /**
   * Why the last reconcile of a serving tenant failed: the tenant stays `ready` (what it runs is
   * untouched) and the next reconcile retries; cleared when one succeeds.
   */
  readonly reconcileError?: RecordedError;
  /** Table storage ETag of the version read. */
  readonly etag: string;
}

export class TenantNotFoundError extends Error {
  override name = 'TenantNotFoundError';
}

export class TenantExistsError extends Error {
  override name = 'TenantExistsError';
}

export class InvalidTransitionError extends Error {
  override name = 'InvalidTransitionError';
  constructor(
    readonly tenantId: string,
    readonly from: TenantStatus,
    readonly to: TenantStatus,
  ) {
    super(`tenant ${tenantId} cannot go from ${from} to ${to}`);
  }
}

/** Too many concurrent writers: the ETag kept changing under us. */
export class RegistryContentionError extends Error {
  override name = 'RegistryContentionError';
}

const transitions: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = {
  requested: ['provisioning', 'deprovisioning', 'failed'],
  // provisioning → provisioning: a retry attempt (or a reconcile of a ready tenant).
  provisioning: ['provisioning', 'ready', 'failed', 'deprovisioning'],
  ready: ['provisioning', 'deprovisioning', 'failed'],
  failed: ['requested', 'provisioning', 'deprovisioning'],
  deprovisioning: ['deprovisioning', 'deleted', 'failed'],
  deleted: ['requested'],
};

export function canTransition(from: TenantStatus, to: TenantStatus): boolean {
  return from === to || transitions[from].includes(to);
}

const partition = 'tenant';

type Entity = Record<string, unknown> & { rowKey?: string; etag?: string };

function toEntity(record: Omit<TenantRecord, 'etag'>): TableEntity<Record<string, unknown>> {
  const { tenantId, lastError, progress, outputs, lastReconcile, reconcileError, ...rest } = record;
  // Replace mode drops properties that are absent, which is how optional fields are cleared.
  const plain = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  return {
    partitionKey: partition,
    rowKey: tenantId,
    ...plain,
    // Nested values are JSON strings: Table storage has flat, typed properties.
    lastError: lastError ? JSON.stringify(lastError) : '',
    progress: progress ? JSON.stringify(progress) : '',
    outputs: outputs ? JSON.stringify(outputs) : '',
    lastReconcile: lastReconcile ? JSON.stringify(lastReconcile) : '',
    reconcileError: reconcileError ? JSON.stringify(reconcileError) : '',
  };
}

function parse<T>(value: unknown): T | undefined {
  return typeof value === 'string' && value ? (JSON.parse(value) as T) : undefined;
}

function fromEntity(entity: Entity): TenantRecord {
  const str = (key: string) => (typeof entity[key] === 'string' && entity[key] ? (entity[key] as string) : undefined);
  const lastError = parse<RecordedError>(entity.lastError);
  const progress = parse<TenantProgress>(entity.progress);
  const outputs = parse<TenantStackOutputs>(entity.outputs);
  const lastReconcile = parse<TenantRecord['lastReconcile']>(entity.lastReconcile);
  const reconcileError = parse<RecordedError>(entity.reconcileError);
  const completedRequestId = str('completedRequestId');
  const readyAt = str('readyAt');
  const deletedAt = str('deletedAt');
  const nextAttemptAt = str('nextAttemptAt');
  return {
    tenantId: entity.rowKey as string,
    status: entity.status as TenantStatus,
    creationId: entity.creationId as string,
    requestId: entity.requestId as string,
    operation: entity.operation as TenantOperation,
    attempts: Number(entity.attempts ?? 0),
    stackCreated: entity.stackCreated === true,
    createdAt: entity.createdAt as string,
    updatedAt: entity.updatedAt as string,
    ...(lastError ? { lastError } : {}),
    ...(progress ? { progress } : {}),
    ...(outputs ? { outputs } : {}),
    ...(lastReconcile ? { lastReconcile } : {}),
    ...(reconcileError ? { reconcileError } : {}),
    ...(completedRequestId ? { completedRequestId } : {}),
    ...(readyAt ? { readyAt } : {}),
    ...(deletedAt ? { deletedAt } : {}),
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    etag: entity.etag ?? '',
  };
}

/** A short random id, fixed per life of a tenant (tenant-stack/resource-names.ts: 4-12 [a-z0-9]). */
export function newCreationId(): string {
  return randomBytes(5).toString('hex');
}

export function newRequestId(): string {
  return randomUUID();
}

/** Turns any error into what the registry keeps: class name, message and cause, nothing more. */
export function recordError(err: unknown, at: Date, redact: readonly string[] = []): RecordedError {
  const clean = (text: string) => {
    let out = text;
    for (const secret of redact) if (secret) out = out.split(secret).join('[redacted]');
    // Automation API errors carry the whole CLI output; its end holds the diagnostics.
    return out.length > 2000 ? `…${out.slice(-2000)}` : out;
  };
  const error = err instanceof Error ? err : new Error(String(err));
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return {
    name: error.name,
    message: clean(error.message),
    ...(cause ? { cause: { name: cause.name, message: clean(cause.message) } } : {}),
    at: at.toISOString(),
  };
}

/** A change to a record; returning the same object skips the write. */
export type RecordChange = (record: TenantRecord) => Omit<TenantRecord, 'etag'> | TenantRecord;

export interface TenantRegistry {
  get(tenantId: string): Promise<TenantRecord | undefined>;
  /** Throws `TenantNotFoundError`. */
  require(tenantId: string): Promise<TenantRecord>;
  list(): Promise<TenantRecord[]>;
  /** Inserts a new record (`requested`); `TenantExistsError` when one exists. */
  create(tenantId: string, fields: { requestId: string; creationId?: string }): Promise<TenantRecord>;
  /**
   * Read-modify-replace under the ETag, retried on conflicts. A status change is checked against
   * the state machine; `updatedAt` is set.
   */
  update(tenantId: string, change: RecordChange): Promise<TenantRecord>;
  /**
   * The tenant whose runtime identity (client or principal id) this is, by the identity index (one
   * point read, no scan); undefined when none carries it now.
   */
  findByIdentity(identityId: string): Promise<TenantRecord | undefined>;
}

export function createTenantRegistry(options: { readonly table: TableClient; readonly now?: () => Date; readonly maxRetries?: number }): TenantRegistry {
  const { table } = options;
  const now = options.now ?? (() => new Date());
  const maxRetries = options.maxRetries ?? 10;
  const identities = createTenantIdentityIndex(table);
  let ensured: Promise<void> | undefined;

  const ensureTable = () =>
    (ensured ??= table.createTable().catch((err: unknown) => {
      ensured = undefined;
      throw err;
    }));

  async function get(tenantId: string): Promise<TenantRecord | undefined> {
    assertTenantId(tenantId);
    await ensureTable();
    try {
      return fromEntity(await table.getEntity<Record<string, unknown>>(partition, tenantId));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  return {
    get,
    async require(tenantId) {
      const record = await get(tenantId);
      if (!record) throw new TenantNotFoundError(`tenant ${tenantId} is not registered`);
      return record;
    },
    async list() {
      await ensureTable();
      const records: TenantRecord[] = [];
      for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) {
        records.push(fromEntity(entity));
      }
      return records.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    },
    async findByIdentity(identityId) {
      await ensureTable();
      const tenantId = await identities.tenantOf(identityId);
      const record = tenantId ? await get(tenantId) : undefined;
      return record && identityIdsOf(record.outputs).includes(identityId) ? record : undefined;
    },
    async create(tenantId, fields) {
      assertTenantId(tenantId);
      await ensureTable();
      const at = now().toISOString();
      const record: Omit<TenantRecord, 'etag'> = {
        tenantId,
        status: 'requested',
        creationId: fields.creationId ?? newCreationId(),
        requestId: fields.requestId,
        operation: 'provision',
        attempts: 0,
        stackCreated: false,
        createdAt: at,
        updatedAt: at,
      };
      try {
        const result = await table.createEntity(toEntity(record));
        return { ...record, etag: result.etag ?? '' };
      } catch (err) {
        if (statusOf(err) === 409) throw new TenantExistsError(`tenant ${tenantId} is already registered`, { cause: err });
        throw err;
      }
    },
    async update(tenantId, change) {
      for (let attempt = 0; attempt < maxRetries; attempt++) {
        const current = await get(tenantId);
        if (!current) throw new TenantNotFoundError(`tenant ${tenantId} is not registered`);
        const next = change(current);
        if (next === current) return current;
        if (!canTransition(current.status, next.status)) throw new InvalidTransitionError(tenantId, current.status, next.status);
        const { etag: _etag, ...fields } = next as TenantRecord;
        const written = { ...fields, tenantId, updatedAt: now().toISOString() };
        try {
          const result = await table.updateEntity(toEntity(written), 'Replace', { etag: current.etag });
          // Index the runtime's identity when the tenant becomes ready, its outputs change, or a
          // reconcile finishes (which also indexes tenants that were ready before the index).
          const ids = identityIdsOf(written.outputs).join(' ');
          if (written.status === 'ready' && ids && (current.status !== 'ready' || ids !== identityIdsOf(current.outputs).join(' ') || written.lastReconcile !== current.lastReconcile)) {
            await identities.record(tenantId, written.outputs);
          }
          return { ...written, etag: result.etag ?? '' };
        } catch (err) {
          // 412: someone wrote since we read; read again and re-apply the change.
          if (statusOf(err) === 412) continue;
          throw err;
        }
      }
      throw new RegistryContentionError(`tenant ${tenantId}: gave up after ${maxRetries} conflicting writes`);
    },
  };
}
