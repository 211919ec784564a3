/**
 * One delivery: one event to one consumer repository, and everything that happened to it.
 *
 * status: `queued` (waiting for its first dispatch or a retry) → `dispatched` (GitHub answered
 * 204) → `started` (a consumer run is linked) → `completed` (that run completed); or
 * `unconfirmed` (dispatched, but no run linked in time) or `dead` (GitHub refused for good).
 *
 * Correlation lineage: a delivery's correlation id is `zekt.<deliveryId>.<generation>`; the first
 * dispatch is generation 1 and every redelivery adds one, so each run links to the generation that
 * started it, and all of a delivery's ids share its prefix.
 */
import type { RepositoryRef } from '../subscriptions/subscription-index.ts';

export const deliveryStatuses = ['queued', 'dispatched', 'started', 'completed', 'unconfirmed', 'dead'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface LinkedRun {
  readonly id: number;
  readonly attempt: number;
  /** GitHub's run status (`queued`, `in_progress`, `completed`, …). */
  readonly status: string;
  readonly conclusion?: string;
  readonly url?: string;
  /** How the run was found: its title carried the correlation id, or the consumer posted a receipt. */
  readonly via: 'display_title' | 'receipt';
  readonly correlationId: string;
  readonly linkedAt: string;
}

export interface DeliveryRecord {
  /** `<eventId>.<consumerRepositoryId>`. */
  readonly id: string;
  readonly eventId: string;
  readonly consumer: RepositoryRef;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  /** Dispatch requests sent to GitHub, over all generations. */
  readonly attempts: number;
  /** Failed attempts of this generation that used a step of the retry schedule. */
  readonly retries: number;
  readonly generation: number;
  readonly correlationId: string;
  readonly lastError?: string;
  /** When a queued delivery is due (its retry or its budget slot), ISO. */
  readonly nextAttemptAt?: string;
  /** A dispatcher holds the delivery until then (epoch ms); others leave it alone. */
  readonly leaseUntil?: number;
  readonly installationId?: number;
  readonly dispatchedAt?: string;
  /** The message ids the last accepted dispatch carried (a later message gets a follow-up). */
  readonly messageIds?: readonly string[];
  /** A follow-up (follow-up-delivery.ts): the delivery it completes and the late message it announces. */
  readonly followUp?: { readonly deliveryId: string; readonly messageId: string };
  readonly linkedRun?: LinkedRun;
  /** Why an `unconfirmed` delivery probably started no run. */
  readonly likelyCauses?: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const deliveryIdOf = (eventId: string, consumerId: number) => `${eventId}.${consumerId}`;

export const correlationIdOf = (deliveryId: string, generation: number) => `zekt.${deliveryId}.${generation}`;

/** Finds a correlation id in a run's title (`run-name`), whatever surrounds it. */
const correlationPattern = /zekt\.(\d+-\d+-\d+\.\d+)\.(\d+)/;

export function parseCorrelationId(text: string | undefined): { deliveryId: string; generation: number; correlationId: string } | undefined {
  const m = text ? correlationPattern.exec(text) : null;
  if (!m) return undefined;
  return { deliveryId: m[1] as string, generation: Number(m[2]), correlationId: m[0] };
}

/** What a linked run makes of the delivery's status. */
export const statusOfLinkedRun = (run: Pick<LinkedRun, 'status'>): DeliveryStatus => (run.status === 'completed' ? 'completed' : 'started');
