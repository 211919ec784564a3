/**
 * The storage access layer: tables, queues and blobs of one storage account, reached either with a
 * connection string (Azurite, which needs `allowInsecureConnection` on plain http) or, on Azure,
 * through identity-based endpoints and a managed identity — chosen by configuration only.
 */
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { StorageConfig } from '../config.ts';

export interface Storage {
  readonly accountName: string;
  table(name: string): TableClient;
  queue(name: string): QueueClient;
  container(name: string): ContainerClient;
  /** Creates the named tables, queues and containers if missing (idempotent). */
  ensure(resources: { tables?: readonly string[]; queues?: readonly string[]; containers?: readonly string[] }): Promise<void>;
}

function parseConnectionString(connectionString: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

export function createStorage(config: StorageConfig, credential?: TokenCredential): Storage {
  let tableService: TableServiceClient;
  let queueService: QueueServiceClient;
  let blobService: BlobServiceClient;
  let tableFor: (name: string) => TableClient;
  let accountName: string;

  if (config.kind === 'connection-string') {
    const fields = parseConnectionString(config.connectionString);
    accountName = fields.AccountName ?? 'unknown';
    const insecure = { allowInsecureConnection: (fields.DefaultEndpointsProtocol ?? 'https') === 'http' };
    tableService = TableServiceClient.fromConnectionString(config.connectionString, insecure);
    queueService = QueueServiceClient.fromConnectionString(config.connectionString);
    blobService = BlobServiceClient.fromConnectionString(config.connectionString);
    tableFor = (name) => TableClient.fromConnectionString(config.connectionString, name, insecure);
  } else {
    accountName = config.accountName;
    const cred =
      credential ??
      (config.managedIdentityClientId
        ? new ManagedIdentityCredential({ clientId: config.managedIdentityClientId })
        : new DefaultAzureCredential());
    const endpoint = (service: string) => `https://${config.accountName}.${service}.${config.endpointSuffix}`;
    tableService = new TableServiceClient(endpoint('table'), cred);
    queueService = new QueueServiceClient(endpoint('queue'), cred);
    blobService = new BlobServiceClient(endpoint('blob'), cred);
    tableFor = (name) => new TableClient(endpoint('table'), name, cred);
  }

  const tables = new Map<string, TableClient>();
  return {
    accountName,
    table(name) {
      let client = tables.get(name);
      if (!client) tables.set(name, (client = tableFor(name)));
      return client;
    },
    queue: (name) => queueService.getQueueClient(name),
    container: (name) => blobService.getContainerClient(name),
    async ensure({ tables: t = [], queues = [], containers = [] }) {
      await Promise.all([
        ...t.map((name) => tableService.createTable(name)),
        ...queues.map((name) => queueService.getQueueClient(name).createIfNotExists()),
        ...containers.map((name) => blobService.getContainerClient(name).createIfNotExists()),
      ]);
    },
  };
}
