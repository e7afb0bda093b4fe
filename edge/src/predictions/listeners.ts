/**
 * The channel's status listener: publishes each recorded status change to the prediction's channel (SSE
 * subscribers, `Prefer: wait`). The full list of listeners (work queue stop, billing, channel, webhooks) is
 * wired in the Worker's entry, `index.ts`.
 * @module
 */
import { channelOf } from '../channel/prediction-channel.js';
import type { StatusListener } from './status-change.js';

/** Publishes the new status to the prediction's channel. */
export const publishStatus: StatusListener = async (env, { row }) => {
  await channelOf(env, row.id).publish({ type: 'status', status: row.status, at: new Date().toISOString() });
};
