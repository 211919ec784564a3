/**
 * The contact e-mail an account gives at signup. The product promises customers it is used for
 * billing and support only, so it is kept with the account in the platform's `accounts` table
 * (its own row kind, partition `contact`, keyed by the GitHub user id), answered only to that
 * account's own session, never logged, and deleted at offboarding.
 */
import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { statusOf } from '../storage/status-of.ts';
import { BadRequestError } from './identity-errors.ts';

const partition = 'contact';

type ContactEntity = { partitionKey: string; rowKey: string; email: string; updatedAt: string };

/** RFC 5321 caps an address at 254 characters; zod checks the shape. */
const emailSchema = z.email().max(254);

/** The address as given (trimmed), or `BadRequestError` naming the field — never echoing it. */
export function parseContactEmail(value: unknown): string {
  const parsed = emailSchema.safeParse(typeof value === 'string' ? value.trim() : value);
  if (!parsed.success) throw new BadRequestError('contactEmail must be an e-mail address (at most 254 characters)');
  return parsed.data;
}

export function createAccountContacts(accounts: TableClient, now: () => Date = () => new Date()) {
  return {
    async set(githubUserId: number, email: string): Promise<void> {
      await accounts.upsertEntity<ContactEntity>({ partitionKey: partition, rowKey: String(githubUserId), email, updatedAt: now().toISOString() }, 'Replace');
    },
    async get(githubUserId: number): Promise<string | undefined> {
      try {
        return (await accounts.getEntity<ContactEntity>(partition, String(githubUserId))).email;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async remove(githubUserId: number): Promise<void> {
      await accounts.deleteEntity(partition, String(githubUserId)).catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
    },
  };
}

export type AccountContacts = ReturnType<typeof createAccountContacts>;
