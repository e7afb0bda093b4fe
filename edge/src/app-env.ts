/**
 * The Hono environment every route and middleware shares: Worker bindings plus typed context variables.
 * @module
 */
import type { StatusListeners } from './predictions/status-change.js';

/** Who made an authenticated public request. */
export interface Caller {
  accountId: string;
  keyId: string;
}

/** How errors are rendered on a route: RFC 9457 problems, or OpenAI's `{error:{…}}` shape. */
export type ErrorStyle = 'problem' | 'openai';

export interface AppVariables {
  requestId: string;
  /** The deployment's status listeners, wired in the Worker's entry and set for every request by the app. */
  statusListeners: StatusListeners;
  caller: Caller;
  errorStyle: ErrorStyle;
  /** Set by the idempotency middleware while this request holds an Idempotency-Key: the prediction it creates is linked to it. */
  idempotencyClaim?: { accountId: string; key: string; owner: string };
  /** Set by the idempotency middleware when the key already created this prediction: answer with it, create nothing. */
  idempotentPrediction?: string;
  /** Set by a route whose response is streamed: the idempotency middleware does not buffer it for replay. */
  responseNotStored?: boolean;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
