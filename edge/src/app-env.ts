/**
 * The Hono environment every route and middleware shares: Worker bindings plus typed context variables.
 * @module
 */

/** Who made an authenticated public request. */
export interface Caller {
  accountId: string;
  keyId: string;
}

/** How errors are rendered on a route: RFC 9457 problems, or OpenAI's `{error:{…}}` shape. */
export type ErrorStyle = 'problem' | 'openai';

export interface AppVariables {
  requestId: string;
  caller: Caller;
  errorStyle: ErrorStyle;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
